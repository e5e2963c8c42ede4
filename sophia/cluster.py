"""Cluster-wide objects: what every environment on a cluster shares.

`dist/clusters/<cluster>/` holds the cluster's own Argo CD project and root application, one
Application per add-on of the Cluster file (a pinned Helm chart, or the add-on project's own
manifests at its release tag) in the lowest sync waves so that their CRDs exist before anything
uses them, and the `nvidia` RuntimeClass. Environments never emit
cluster-wide objects two environments would fight over.
"""

from __future__ import annotations

from typing import Any

from sophia.constructs._base import SophiaConstruct
from sophia.constructs.application_chart import ApplicationChart
from sophia.constructs.argocd_application import ArgoApplication, ArgoApplicationProps
from sophia.constructs.argocd_project import ArgoProject, ArgoProjectProps
from sophia.constructs.network_access import Peer
from sophia.constructs.runtime_class import NvidiaRuntimeClass, NvidiaRuntimeClassProps
from sophia.model.models import Addon, Cluster, ServiceSpec

CLUSTERS_FOLDER = "clusters"
ROOT_WAVE = -40
RUNTIME_WAVE = -35
"""Before every add-on (their waves are -34 to -21): the API server refuses a pod whose RuntimeClass does not
exist, so a GPU add-on's DaemonSet synced first would stay Progressing and hold the cluster root's waves."""
CLUSTER_KINDS = (
    ("", "Namespace"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("node.k8s.io", "RuntimeClass"),
    ("nfd.k8s-sigs.io", "NodeFeatureRule"),
)


def build_cluster(root: SophiaConstruct, cluster: Cluster) -> None:
    """Everything cluster-wide of one cluster, under dist/clusters/<name>/."""
    source = cluster.spec.source
    if source is None:
        return
    name = cluster.metadata.name
    cluster_scope = SophiaConstruct(root, f"cluster-{name}")
    base = f"{CLUSTERS_FOLDER}/{name}"
    argo_ns = cluster.spec.argocd.namespace
    scope = ApplicationChart(cluster_scope, "argocd", folder=f"{base}/argocd", namespace=argo_ns)
    project = f"cluster-{name}"
    addons = cluster.spec.addons
    repos = {source.repo_url} | {_repository(addon) for addon in addons.values()}
    ArgoProject(scope, "project", folder=f"{base}/argocd", props=ArgoProjectProps(
        name=project,
        namespace=argo_ns,
        cluster=name,
        description=f"Cluster-wide add-ons of {name}: pinned releases and {source.repo_url}",
        source_repos=tuple(sorted(repos)),
        namespaces=tuple(sorted({argo_ns, *(a.namespace for a in addons.values())})),
        cluster_resources=CLUSTER_KINDS,
    ))
    common: dict[str, Any] = {
        "namespace": argo_ns, "project": project, "repo_url": source.repo_url,
        "revision": source.target_revision, "cluster": name,
    }
    for addon_name, addon in sorted(addons.items()):
        ArgoApplication(scope, f"addon-{addon_name}", folder=f"{base}/argocd", props=_addon_props(addon_name, addon, common))
    path = source.path.rstrip("/")
    if any(pool.gpu for pool in cluster.spec.node_pools.values()):
        runtime = ApplicationChart(cluster_scope, "runtime", folder=f"{base}/runtime", namespace=argo_ns)
        NvidiaRuntimeClass(runtime, "runtime-class", folder=f"{base}/runtime", props=NvidiaRuntimeClassProps())
        ArgoApplication(scope, "runtime", folder=f"{base}/argocd", props=ArgoApplicationProps(
            **common,
            name=f"cluster-{name}-runtime",
            component="cluster-runtime",
            path=f"{path}/{base}/runtime",
            dest_namespace=argo_ns,
            wave=RUNTIME_WAVE,
        ))
    ArgoApplication(scope, "root", folder=f"{base}/argocd", props=ArgoApplicationProps(
        **common,
        name=f"cluster-{name}-root",
        component="argocd-root",
        path=f"{path}/{base}/argocd",
        dest_namespace=argo_ns,
        wave=ROOT_WAVE,
    ))


def _addon_props(name: str, addon: Addon, common: dict[str, Any]) -> ArgoApplicationProps:
    """The Application installing one add-on: its chart, or its project's manifests at the release tag."""
    if addon.chart is not None:
        source: dict[str, Any] = {"repo_url": addon.chart.repo, "revision": addon.chart.version,
                                  "chart": addon.chart.name, "helm_values": addon.values}
    else:
        assert addon.git is not None  # the model holds exactly one of the two
        source = {"repo_url": addon.git.repo_url, "revision": addon.release, "path": addon.git.path,
                  "kustomize": addon.kustomize}
    return ArgoApplicationProps(
        **{**common, **source},
        name=f"addon-{name}",
        component="cluster-addon",
        dest_namespace=addon.namespace,
        wave=addon.wave,
        sync_options=("CreateNamespace=true", "ServerSideApply=true", "PruneLast=true"),
    )


def _repository(addon: Addon) -> str:
    """The repository an add-on is installed from (the AppProject allows exactly these)."""
    if addon.chart is not None:
        return addon.chart.repo
    assert addon.git is not None  # the model holds exactly one of the two
    return addon.git.repo_url


def prometheus_peer(cluster: Cluster, spec: ServiceSpec) -> Peer | None:
    """The cluster's Prometheus pods, allowed to a service's metrics port and no other; None when the service
    declares no metrics or the cluster runs no Prometheus (`spec.monitoring`)."""
    monitoring = cluster.spec.monitoring
    if spec.metrics is None or monitoring is None:
        return None
    port = spec.ports[spec.metrics.port]
    return Peer(namespace=cluster.spec.addons[monitoring.prometheus].namespace,
                labels=tuple(sorted(monitoring.pod_labels.items())), ports=((port.protocol, port.port),))
