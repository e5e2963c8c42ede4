"""`Exposure`: the Ingress of an exposed service, served by k3s's Traefik, TLS from cert-manager.

The host is `<expose.host>.<environment domain>`: never an address. cert-manager's ingress-shim
reads the `cert-manager.io/cluster-issuer` annotation and keeps the TLS Secret it names filled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata

if TYPE_CHECKING:
    from sophia.k8s.networking_v1 import Ingress

INGRESS_CLASS = "traefik"


class ExposureProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Service name.")
    namespace: str = Field(description="Namespace of the service.")
    labels: dict[str, str] = Field(description="Labels of the Ingress.")
    host: str = Field(description="Full host name.")
    path: str = Field(description="URL path prefix.")
    port: str = Field(description="Name of the Service port.")
    issuer: str = Field(description="cert-manager ClusterIssuer.")


class Exposure(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: ExposureProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        annotations = {
            "cert-manager.io/cluster-issuer": p.issuer,
            "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
            "traefik.ingress.kubernetes.io/router.tls": "true",
        }
        ingress: Ingress = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": metadata(p.name, p.labels, namespace=p.namespace, annotations=annotations),
            "spec": {
                "ingressClassName": INGRESS_CLASS,
                "tls": [{"hosts": [p.host], "secretName": f"{p.name}-tls"}],
                "rules": [{
                    "host": p.host,
                    "http": {"paths": [{
                        "path": p.path,
                        "pathType": "Prefix",
                        "backend": {"service": {"name": p.name, "port": {"name": p.port}}},
                    }]},
                }],
            },
        }
        self._emit(folder, ingress)
