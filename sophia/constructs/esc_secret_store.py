"""`EscSecretStore`: the ClusterSecretStore of one environment (or of a cluster's add-ons), reading its
Pulumi ESC environment.

It authenticates with the one secret created by hand (the ESC access token, in a bootstrap
namespace) and serves only the environment's own namespaces (or the add-ons' that read secrets), so
development pods can never read production values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SKIP_DRY_RUN, SophiaConstruct, metadata, recommended_labels
from sophia.model.models import Esc

if TYPE_CHECKING:
    from sophia.k8s.external_secrets_io_v1 import ClusterSecretStore


class EscSecretStoreProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="ClusterSecretStore name.")
    environment: str = Field(description="Environment it serves (`cluster-<name>` for a cluster's add-ons).")
    esc: Esc = Field(description="Organization, project, environment and token location.")
    namespaces: tuple[str, ...] = Field(description="The only namespaces allowed to use the store.")


class EscSecretStore(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: EscSecretStoreProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = recommended_labels(name="pulumi-esc", component="secret-store", instance=f"pulumi-esc-{p.environment}")
        token = p.esc.token_secret
        store: ClusterSecretStore = {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": metadata(p.name, labels, annotations=SKIP_DRY_RUN, wave=-5),
            "spec": {
                "provider": {
                    "pulumi": {
                        "organization": p.esc.organization,
                        "project": p.esc.project,
                        "environment": p.esc.environment,
                        "auth": {
                            "accessToken": {
                                "secretRef": {"namespace": token.namespace, "name": token.name, "key": token.key}
                            }
                        },
                    }
                },
                "conditions": [{"namespaces": list(p.namespaces)}],
            },
        }
        self._emit(folder, store)
