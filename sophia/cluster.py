"""Cluster-wide objects: what every environment on a cluster shares.

`dist/clusters/<cluster>/` holds the cluster's own Argo CD project and root application, one
Application per add-on of the Cluster file (a pinned Helm chart, or the add-on project's own
manifests at its release tag) in the lowest sync waves so that their CRDs exist before anything
uses them, the `nvidia` RuntimeClass (`runtime/`), and the Secrets the add-ons read from Pulumi
ESC (`secrets/`: a ClusterSecretStore serving only those add-ons' namespaces and one
ExternalSecret per Secret, synced right after External Secrets) and sophia's default alert rules
(`monitoring/`: PrometheusRules in the namespace of the add-on that runs Prometheus, synced after
it). Environments never emit cluster-wide objects two environments would fight over.
"""

from __future__ import annotations

from typing import Any

from sophia.constructs._base import SophiaConstruct, recommended_labels
from sophia.constructs.alert_rules import AlertRules, AlertRulesProps
from sophia.constructs.application_chart import ApplicationChart
from sophia.constructs.argocd_application import ArgoApplication, ArgoApplicationProps
from sophia.constructs.argocd_project import ArgoProject, ArgoProjectProps
from sophia.constructs.esc_secret_store import EscSecretStore, EscSecretStoreProps
from sophia.constructs.network_access import Peer
from sophia.constructs.runtime_class import NvidiaRuntimeClass, NvidiaRuntimeClassProps
from sophia.constructs.service_secrets import ServiceSecrets, ServiceSecretsProps
from sophia.model.models import (
    EXTERNAL_SECRETS_GROUP,
    PROMETHEUS_OPERATOR_GROUP,
    WAIVER_ANNOTATION_PREFIX,
    Addon,
    Cluster,
    Esc,
    ServiceSpec,
)

CLUSTERS_FOLDER = "clusters"
SECRETS_FOLDER = "secrets"
MONITORING_FOLDER = "monitoring"
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
)
"""The cluster-scoped kinds the cluster's AppProject always allows: those any add-on installs with its CRDs and
RBAC, and sophia's own RuntimeClass. An add-on's other kinds are its `clusterResources` in the Cluster file."""
SECRET_STORE_KIND = (EXTERNAL_SECRETS_GROUP, "ClusterSecretStore")
ADDON_NAMESPACE = {
    f"{WAIVER_ANNOTATION_PREFIX}SOPHIA-NET-002": "the namespace of a cluster add-on: its chart or manifests run the pods "
    "and own their network access; a default-deny policy from sophia would cut them off",
}
"""On the objects sophia adds to an add-on's namespace (ExternalSecrets, PrometheusRules): the policy asks
every namespace sophia writes into for a default-deny NetworkPolicy."""


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
    esc = cluster.spec.esc
    readers = {n: a for n, a in addons.items() if a.secrets} if esc is not None else {}
    repos = {source.repo_url} | {_repository(addon) for addon in addons.values()}
    ArgoProject(scope, "project", folder=f"{base}/argocd", props=ArgoProjectProps(
        name=project,
        namespace=argo_ns,
        cluster=name,
        description=f"Cluster-wide add-ons of {name}: pinned releases and {source.repo_url}",
        source_repos=tuple(sorted(repos)),
        namespaces=tuple(sorted({argo_ns, *(a.namespace for a in addons.values())}
                                | ({esc.token_secret.namespace} if readers and esc else set()))),
        cluster_resources=_cluster_kinds(addons, readers),
    ))
    common: dict[str, Any] = {
        "namespace": argo_ns, "project": project, "repo_url": source.repo_url,
        "revision": source.target_revision, "cluster": name,
    }
    for addon_name, addon in sorted(addons.items()):
        ArgoApplication(scope, f"addon-{addon_name}", folder=f"{base}/argocd", props=_addon_props(addon_name, addon, common))
    path = source.path.rstrip("/")
    if readers and esc is not None:
        folder = f"{base}/{SECRETS_FOLDER}"
        secrets = ApplicationChart(cluster_scope, "secrets", folder=folder, namespace=esc.token_secret.namespace)
        _addon_secrets(secrets, name, esc, readers, folder=folder)
        ArgoApplication(scope, "secrets", folder=f"{base}/argocd", props=ArgoApplicationProps(
            **common,
            name=f"cluster-{name}-secrets",
            component="cluster-secrets",
            path=f"{path}/{base}/{SECRETS_FOLDER}",
            dest_namespace=esc.token_secret.namespace,
            wave=_wave_after(cluster, EXTERNAL_SECRETS_GROUP),
        ))
    monitoring = cluster.spec.monitoring
    if monitoring is not None and monitoring.alerts:
        prometheus = addons[monitoring.prometheus]
        folder = f"{base}/{MONITORING_FOLDER}"
        alerts = ApplicationChart(cluster_scope, "monitoring", folder=folder, namespace=prometheus.namespace)
        AlertRules(alerts, "alert-rules", folder=folder, props=AlertRulesProps(
            namespace=prometheus.namespace,
            annotations=ADDON_NAMESPACE,
        ))
        ArgoApplication(scope, "monitoring", folder=f"{base}/argocd", props=ArgoApplicationProps(
            **common,
            name=f"cluster-{name}-monitoring",
            component="cluster-monitoring",
            path=f"{path}/{base}/{MONITORING_FOLDER}",
            dest_namespace=prometheus.namespace,
            # after the CRDs, and after Prometheus: its operator's admission webhook checks PrometheusRules
            wave=max(prometheus.wave + 1, _wave_after(cluster, PROMETHEUS_OPERATOR_GROUP)),
        ))
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


def _cluster_kinds(addons: dict[str, Addon], readers: dict[str, Addon]) -> tuple[tuple[str, str], ...]:
    """The cluster project's clusterResourceWhitelist: `CLUSTER_KINDS`, the ClusterSecretStore when add-ons read
    secrets, and every add-on's `clusterResources`; sorted, each once."""
    kinds = {*CLUSTER_KINDS, *((SECRET_STORE_KIND,) if readers else ())}
    kinds.update((r.group, r.kind) for addon in addons.values() for r in addon.cluster_resources)
    return tuple(sorted(kinds))


def _addon_secrets(scope: ApplicationChart, cluster: str, esc: Esc, readers: dict[str, Addon], *, folder: str) -> None:
    """The cluster's ESC store, serving only the namespaces of the add-ons that read secrets, and their ExternalSecrets."""
    store = f"pulumi-esc-cluster-{cluster}"
    EscSecretStore(scope, "secret-store", folder=folder, props=EscSecretStoreProps(
        name=store,
        environment=f"cluster-{cluster}",
        esc=esc,
        namespaces=tuple(sorted({addon.namespace for addon in readers.values()})),
    ))
    for addon_name, addon in sorted(readers.items()):
        for secret, declared in sorted(addon.secrets.items()):
            ServiceSecrets(scope, f"secret-{addon_name}-{secret}", folder=folder, props=ServiceSecretsProps(
                name=secret,
                namespace=addon.namespace,
                labels=recommended_labels(name=secret, component="addon-secret", instance=f"addon-{addon_name}"),
                store=store,
                refresh_interval=esc.refresh_interval,
                items=tuple(sorted(declared.data.items())),
                template=declared.template,
                annotations=ADDON_NAMESPACE,
            ))


def _wave_after(cluster: Cluster, group: str) -> int:
    """The sync wave right after the add-ons that install `group`'s CRDs (the loader made sure there is one)."""
    return max(cluster.spec.addons[n].wave for n in cluster.spec.installers(group)) + 1


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
