"""`ArgoProject`: an Argo CD AppProject fenced to one repository, one cluster, the environment's
namespaces, and only the cluster-scoped kinds the environment really emits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.argoproj_io_v1alpha1 import AppProject


class ArgoProjectProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="AppProject name.")
    namespace: str = Field(description="Namespace Argo CD runs in.")
    description: str = Field(description="Shown in the Argo CD UI.")
    source_repos: tuple[str, ...] = Field(description="The only repositories Applications may use.")
    cluster: str = Field(description="Destination cluster, by name.")
    namespaces: tuple[str, ...] = Field(description="The only destination namespaces.")
    cluster_resources: tuple[tuple[str, str], ...] = Field(description="(group, kind) allowed at cluster scope.")


class ArgoProject(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: ArgoProjectProps) -> None:
        super().__init__(scope, id)
        self.props = props
        labels = recommended_labels(name=props.name, component="argocd-project")
        project: AppProject = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": metadata(props.name, labels, namespace=props.namespace, wave=-10),
            "spec": {
                "description": props.description,
                "sourceRepos": list(props.source_repos),
                "destinations": [{"name": props.cluster, "namespace": ns} for ns in props.namespaces],
                "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in props.cluster_resources],
                "orphanedResources": {"warn": True},
            },
        }
        self._emit(folder, project)
