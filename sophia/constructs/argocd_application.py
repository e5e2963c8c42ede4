"""`ArgoApplication`: an Argo CD Application that syncs one source automatically (prune,
self-heal, retry with backoff) and cleans up after itself (resources finalizer).

The source is a folder of a git repository (dist/, or an add-on project's manifests, with optional
kustomize settings) or a Helm chart with its values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.argoproj_io_v1alpha1 import Application, ApplicationSpecSource, ApplicationSpecSourceKustomize

FINALIZER = "resources-finalizer.argocd.argoproj.io/foreground"
"""Argo CD deletes the Application's resources before the Application (foreground cascading
deletion); the domain-qualified form with a path, which the API server does not warn about."""


class ArgoApplicationProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Application name.")
    namespace: str = Field(description="Namespace Argo CD runs in.")
    project: str = Field(description="AppProject it belongs to.")
    component: str = Field(default="argocd-application", description="app.kubernetes.io/component label.")
    repo_url: str = Field(description="Git repository, or Helm chart repository when `chart` is set.")
    revision: str = Field(description="Branch, tag or commit; the chart version when `chart` is set.")
    path: str = Field(default="", description="Folder of the git repository holding the manifests.")
    cluster: str = Field(description="Destination cluster, by name.")
    dest_namespace: str = Field(description="Default destination namespace.")
    wave: int = Field(default=0, description="Sync wave among sibling Applications.")
    chart: str | None = Field(default=None, description="Helm chart name: a chart source instead of a git folder.")
    helm_values: dict[str, Any] = Field(default_factory=dict, description="Helm values of a chart source.")
    kustomize: dict[str, Any] | None = Field(default=None, description="kustomize settings of a git folder source.")
    sync_options: tuple[str, ...] = Field(default=("PruneLast=true",), description="syncPolicy.syncOptions.")


class ArgoApplication(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: ArgoApplicationProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        labels = recommended_labels(name=p.name, component=p.component)
        meta = metadata(p.name, labels, namespace=p.namespace, wave=p.wave)
        meta["finalizers"] = [FINALIZER]
        source: ApplicationSpecSource = {"repoURL": p.repo_url, "targetRevision": p.revision}
        if p.chart is not None:
            source["chart"] = p.chart
            if p.helm_values:
                source["helm"] = {"releaseName": p.name, "valuesObject": p.helm_values}
        else:
            source["path"] = p.path
            if p.kustomize is not None:
                # the Cluster file's settings as written: `sophia validate` checks them against the Application CRD
                source["kustomize"] = cast("ApplicationSpecSourceKustomize", p.kustomize)
        application: Application = {
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
        }
        self._emit(folder, application)
