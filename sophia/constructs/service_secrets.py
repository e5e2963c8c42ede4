"""`ServiceSecrets`: the ExternalSecret that turns ESC key paths into the Secret a pod reads.

Nothing secret is ever in git: the ExternalSecret names only where each value lives in Pulumi
ESC. External Secrets Operator creates (and owns) the target Secret in the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SKIP_DRY_RUN, SophiaConstruct, metadata

if TYPE_CHECKING:
    from sophia.k8s.external_secrets_io_v1 import ExternalSecret, ExternalSecretSpecTarget

WAVE_SECRETS = -1


class ServiceSecretsProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Name of the ExternalSecret and of the Secret it creates.")
    namespace: str = Field(description="Namespace of the consuming pods.")
    labels: dict[str, str] = Field(description="Labels of the object.")
    store: str = Field(description="ClusterSecretStore to read from.")
    refresh_interval: str = Field(description="How often to re-read ESC.")
    items: tuple[tuple[str, str], ...] = Field(description="(key in the Secret, ESC path) pairs.")
    template: dict[str, str] | None = Field(
        default=None, description="Secret data rendered from the fetched values (ESO template), instead of one key per item."
    )
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the object, beside the sync options.")


class ServiceSecrets(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: ServiceSecretsProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        target: ExternalSecretSpecTarget = {"name": p.name, "creationPolicy": "Owner", "deletionPolicy": "Retain"}
        if p.template is not None:
            target["template"] = {"engineVersion": "v2", "data": dict(p.template)}
        secret: ExternalSecret = {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": metadata(p.name, p.labels, namespace=p.namespace, annotations={**SKIP_DRY_RUN, **p.annotations},
                                 wave=WAVE_SECRETS),
            "spec": {
                "refreshInterval": p.refresh_interval,
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": p.store},
                "target": target,
                "data": [{"secretKey": key, "remoteRef": {"key": path}} for key, path in p.items],
            },
        }
        self._emit(folder, secret)
