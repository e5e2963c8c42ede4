"""`AcmeIssuer`: the cert-manager ClusterIssuer of one environment (Let's Encrypt over HTTP-01,
answered through Traefik). Staging and production ACME servers are a per-environment choice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SKIP_DRY_RUN, SophiaConstruct, metadata, recommended_labels
from sophia.constructs.exposure import INGRESS_CLASS

if TYPE_CHECKING:
    from sophia.k8s.cert_manager_io_v1 import ClusterIssuer

ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


class AcmeIssuerProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="ClusterIssuer name.")
    environment: str = Field(description="Environment it serves.")
    email: str = Field(description="ACME account e-mail.")
    server: Literal["production", "staging"] = Field(description="Let's Encrypt server.")


class AcmeIssuer(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: AcmeIssuerProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        labels = recommended_labels(name="acme", component="cluster-issuer", instance=f"acme-{p.environment}")
        issuer: ClusterIssuer = {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": metadata(p.name, labels, annotations=SKIP_DRY_RUN, wave=-5),
            "spec": {
                "acme": {
                    "email": p.email,
                    "server": ACME_SERVERS[p.server],
                    "privateKeySecretRef": {"name": f"{p.name}-account-key"},
                    "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
                }
            },
        }
        self._emit(folder, issuer)
