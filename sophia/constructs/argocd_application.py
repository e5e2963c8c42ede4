"""`ArgoApplication`: an Argo CD Application that syncs one folder of dist/ automatically
(prune, self-heal, retry with backoff) and cleans up after itself (resources finalizer)."""

from __future__ import annotations

from typing import Any

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

FINALIZER = "resources-finalizer.argocd.argoproj.io"


class ArgoApplicationProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Application name.")
    namespace: str = Field(description="Namespace Argo CD runs in.")
    project: str = Field(description="AppProject it belongs to.")
    component: str = Field(default="argocd-application", description="app.kubernetes.io/component label.")
    repo_url: str = Field(description="Git repository.")
    revision: str = Field(description="Branch, tag or commit.")
    path: str = Field(description="Folder of the repository holding the manifests.")
    cluster: str = Field(description="Destination cluster, by name.")
    dest_namespace: str = Field(description="Default destination namespace.")
    wave: int = Field(default=0, description="Sync wave among sibling Applications.")
    helm: tuple[str, str, str] | None = Field(
        default=None, description="(chart repository URL, chart, version) for a Helm source instead of a path."
    )
    helm_values: str = Field(default="", description="Helm values (YAML text) for a Helm source.")
    sync_options: tuple[str, ...] = Field(default=("PruneLast=true",), description="syncPolicy.syncOptions.")


class ArgoApplication(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: ArgoApplicationProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = recommended_labels(name=p.name, component=p.component)
        meta = metadata(p.name, labels, namespace=p.namespace, wave=p.wave)
        meta["finalizers"] = [FINALIZER]
        source: dict[str, Any]
        if p.helm is not None:
            repo, chart, version = p.helm
            source = {"repoURL": repo, "chart": chart, "targetRevision": version}
            if p.helm_values:
                source["helm"] = {"releaseName": p.name, "values": p.helm_values}
        else:
            source = {"repoURL": p.repo_url, "targetRevision": p.revision, "path": p.path}
        self._emit(folder, {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": meta,
            "spec": {
                "project": p.project,
                "source": source,
                "destination": {"name": p.cluster, "namespace": p.dest_namespace},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": list(p.sync_options),
                    "retry": {
                        "limit": 5,
                        "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"},
                    },
                },
                "revisionHistoryLimit": 10,
            },
        })
