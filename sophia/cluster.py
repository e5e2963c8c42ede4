"""Cluster-wide objects: what every environment on a cluster shares.

`dist/clusters/<cluster>/` holds the cluster's own Argo CD project and root application, the add-ons
as Helm-source Applications with pinned chart versions (Argo CD itself, cert-manager, External
Secrets Operator, the NVIDIA device plugin with GPU Feature Discovery) in the lowest sync waves so
their CRDs exist before anything uses them, and the `nvidia` RuntimeClass. Environments never emit
cluster-wide objects two environments would fight over.
"""

from __future__ import annotations

from typing import Any

from sophia.constructs._base import SophiaConstruct
from sophia.constructs.argocd_application import ArgoApplication, ArgoApplicationProps
from sophia.constructs.argocd_project import ArgoProject, ArgoProjectProps
from sophia.constructs.runtime_class import NvidiaRuntimeClass, NvidiaRuntimeClassProps
from sophia.model.models import Cluster

CLUSTERS_FOLDER = "clusters"
HELM_REPOS = {
    "argo-cd": "https://argoproj.github.io/argo-helm",
    "cert-manager": "https://charts.jetstack.io",
    "external-secrets": "https://charts.external-secrets.io",
    "nvidia-device-plugin": "https://nvidia.github.io/k8s-device-plugin",
}
ADDON_NAMESPACES = {
    "argo-cd": "argocd",
    "cert-manager": "cert-manager",
    "external-secrets": "external-secrets",
    "nvidia-device-plugin": "nvidia-device-plugin",
}
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
APPLICATION_HEALTH = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
"""


def _values(addon: str, cluster: Cluster) -> str:
    """Helm values of an add-on (YAML text)."""
    if addon == "argo-cd":
        lines = ["configs:", "  cm:",
                 "    # Sync waves between Applications need Argo CD to assess an Application's health.",
                 "    resource.customizations.health.argoproj.io_Application: |"]
        lines += ["      " + line for line in APPLICATION_HEALTH.splitlines()]
        return "\n".join(lines) + "\n"
    if addon == "cert-manager":
        return "crds:\n  enabled: true\n  keep: true\n"
    if addon == "external-secrets":
        return "installCRDs: true\n"
    gpu_pools = sorted(
        (k, v) for pool in cluster.spec.node_pools.values() if pool.gpu for k, v in pool.labels.items()
    )
    values = ["gfd:", "  enabled: true", "runtimeClassName: nvidia",
              "tolerations:", "  - key: nvidia.com/gpu", "    operator: Exists", "    effect: NoSchedule"]
    if gpu_pools:
        key = gpu_pools[0][0]
        values += ["affinity:", "  nodeAffinity:", "    requiredDuringSchedulingIgnoredDuringExecution:",
                   "      nodeSelectorTerms:", "        - matchExpressions:", f"            - key: {key}",
                   "              operator: In", "              values:"]
        values += [f"                - {v}" for k, v in gpu_pools if k == key]
    return "\n".join(values) + "\n"


def build_cluster(root: SophiaConstruct, cluster: Cluster) -> None:
    """Everything cluster-wide of one cluster, under dist/clusters/<name>/."""
    source = cluster.spec.source
    if source is None:
        return
    name = cluster.metadata.name
    scope = SophiaConstruct(root, f"cluster-{name}")
    base = f"{CLUSTERS_FOLDER}/{name}"
    argo_ns = cluster.spec.argocd.namespace
    project = f"cluster-{name}"
    versions = cluster.spec.addons
    addons = {
        "argo-cd": versions.argo_cd,
        "cert-manager": versions.cert_manager,
        "external-secrets": versions.external_secrets,
        "nvidia-device-plugin": versions.nvidia_device_plugin,
    }
    ArgoProject(scope, "project", folder=f"{base}/argocd", props=ArgoProjectProps(
        name=project,
        namespace=argo_ns,
        cluster=name,
        description=f"Cluster-wide add-ons of {name}: pinned Helm charts and {source.repo_url}",
        source_repos=tuple(sorted({source.repo_url, *HELM_REPOS.values()})),
        namespaces=tuple(sorted({argo_ns, *ADDON_NAMESPACES.values()})),
        cluster_resources=CLUSTER_KINDS,
    ))
    common: dict[str, Any] = {
        "namespace": argo_ns, "project": project, "repo_url": source.repo_url,
        "revision": source.target_revision, "cluster": name,
    }
    waves = {"argo-cd": -30, "cert-manager": -25, "external-secrets": -25, "nvidia-device-plugin": -25}
    for addon, version in addons.items():
        ArgoApplication(scope, f"addon-{addon}", folder=f"{base}/argocd", props=ArgoApplicationProps(
            **common,
            name=f"addon-{addon}",
            component="cluster-addon",
            path="",
            dest_namespace=ADDON_NAMESPACES[addon],
            wave=waves[addon],
            helm=(HELM_REPOS[addon], addon, version),
            helm_values=_values(addon, cluster),
            sync_options=("CreateNamespace=true", "ServerSideApply=true", "PruneLast=true"),
        ))
    path = source.path.rstrip("/")
    if any(pool.gpu for pool in cluster.spec.node_pools.values()):
        NvidiaRuntimeClass(scope, "runtime-class", folder=f"{base}/runtime", props=NvidiaRuntimeClassProps())
        ArgoApplication(scope, "runtime", folder=f"{base}/argocd", props=ArgoApplicationProps(
            **common,
            name=f"cluster-{name}-runtime",
            component="cluster-runtime",
            path=f"{path}/{base}/runtime",
            dest_namespace="nvidia-device-plugin",
            wave=-20,
        ))
    ArgoApplication(scope, "root", folder=f"{base}/argocd", props=ArgoApplicationProps(
        **common,
        name=f"cluster-{name}-root",
        component="argocd-root",
        path=f"{path}/{base}/argocd",
        dest_namespace=argo_ns,
        wave=-40,
    ))
