"""The `Cluster` kind: node pools by label, add-ons pinned by release, monitoring."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from sophia.model.kinds.common import ArgoCD, Esc, GitSource
from sophia.model.kinds.fields import (
    Cpu,
    GpuModel,
    LabelKey,
    LabelValue,
    Memory,
    Metadata,
    Model,
    Name,
    NamespaceName,
    PositiveInt,
    _check,
    _no_ip,
)
from sophia.model.kinds.service_parts import ESC_PATH
from sophia.values import DNS1123_SUBDOMAIN as _DNS1123_SUBDOMAIN


class Taint(Model):
    key: LabelKey = Field(description="Taint key, e.g. nvidia.com/gpu.")
    value: LabelValue = Field(default="", description="Taint value.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(description="Taint effect.")


class PoolGpu(Model):
    model: GpuModel = Field(description="GPU model of every node in the pool.")
    count: PositiveInt = Field(description="GPUs per node.")
    memory_gib: PositiveInt = Field(alias="memoryGiB", description="Memory of one GPU, in GiB.")


class Capacity(Model):
    cpu: Cpu = Field(description="Allocatable CPU per node.")
    memory: Memory = Field(description="Allocatable memory per node.")


class NodePool(Model):
    description: str = Field(default="", description="What these machines are.")
    nodes: PositiveInt = Field(default=1, description="Number of machines in the pool.")
    labels: dict[LabelKey, LabelValue] = Field(min_length=1, description="Labels that select the pool's nodes.")
    taints: list[Taint] = Field(default_factory=list, description="Taints on the pool's nodes.")
    capacity: Capacity = Field(description="Allocatable capacity of one node.")
    gpu: PoolGpu | None = Field(default=None, description="GPUs of each node.")
    general_workloads: StrictBool = Field(
        default=True,
        description="Whether pods without GPUs may land here (they then tolerate no GPU taint).",
    )

Version = Annotated[str, Field(pattern=r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$")]
"""A release or chart version: `1.2.3` or `v1.2.3`, optionally with a pre-release suffix."""

ApiGroup = Annotated[str, _check(_DNS1123_SUBDOMAIN, "API group (a DNS subdomain, e.g. external-secrets.io)", 253)]


class HelmChart(Model):
    repo: Annotated[str, Field(pattern=r"^(https|oci)://\S+$"), AfterValidator(_no_ip)] = Field(
        description="Chart repository URL (https:// or oci://)."
    )
    name: NamespaceName = Field(description="Chart name in the repository.")
    version: Version = Field(description="Chart version, pinned. Not always the application's version: see `release`.")


class GitManifests(Model):
    repo_url: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)\S+$"), AfterValidator(_no_ip)] = Field(
        alias="repoURL", description="The add-on project's own repository."
    )
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = Field(
        description="Folder of its manifests (plain YAML or a kustomization), read at the release tag."
    )

EXTERNAL_SECRETS_GROUP = "external-secrets.io"
"""The API group of ExternalSecret and ClusterSecretStore: the add-on whose CRDs hold it is External Secrets."""

PROMETHEUS_OPERATOR_GROUP = "monitoring.coreos.com"
"""The API group of PrometheusRule and ServiceMonitor (prometheus-operator's CRDs)."""


class AddonCrds(Model):
    groups: list[ApiGroup] = Field(
        min_length=1, description="API groups of the CustomResourceDefinitions the add-on installs."
    )
    project: Name | None = Field(
        default=None,
        description="Folder of the CRD definitions (`<crds>/<project>/<release>/`); defaults to the add-on's name.",
    )
    release: Version | None = Field(
        default=None, description="Release of the project whose CRDs the add-on installs; defaults to the add-on's release."
    )

ResourceGroup = Annotated[str, _check(
    re.compile(f"(?:{_DNS1123_SUBDOMAIN.pattern})?"), 'API group ("" for the core group, else a DNS subdomain, e.g. '
    "scheduling.k8s.io)", 253)]
KindName = Annotated[str, _check(re.compile(r"[A-Z][A-Za-z0-9]*"), "kind (a CamelCase name, e.g. PriorityClass)", 63)]


class ClusterResource(Model):
    """A cluster-scoped kind an add-on creates: Argo CD syncs it only when the cluster's AppProject lists it."""

    group: ResourceGroup = Field(description='API group of the kind: "" for the core group, else e.g. scheduling.k8s.io.')
    kind: KindName = Field(description="The kind, e.g. PriorityClass.")


SecretName = Annotated[str, _check(_DNS1123_SUBDOMAIN, "Secret name (a DNS subdomain)", 253)]

SecretKey = Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")]
"""A key of a Secret's data (letters, digits, '-', '_' and '.')."""

EscPath = Annotated[str, Field(pattern=ESC_PATH)]

_TEMPLATE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class AddonSecret(Model):
    """One Secret an add-on reads, filled by External Secrets from the cluster's Pulumi ESC environment.

    Without `template` every key of `data` becomes a key of the Secret. With it, the Secret holds exactly
    the keys of `template`, each rendered by External Secrets (template engine v2) from the values of
    `data`, which the template reads as `{{ .<name> }}`.
    """

    data: dict[SecretKey, EscPath] = Field(
        min_length=1,
        description="Key of the Secret (or, with template, the name the template reads the value by) -> ESC path "
        "`<system>.<field>`.",
    )
    template: dict[SecretKey, str] | None = Field(
        default=None,
        description="Secret keys built from several values, e.g. a whole config file with `{{ .slack_webhook_url }}` "
        "in it. No secret value is ever written here: the loader's literal check applies.",
    )

    @model_validator(mode="after")
    def _template_names(self) -> AddonSecret:
        if self.template is not None:
            for name in self.data:
                if not _TEMPLATE_NAME.fullmatch(name):
                    raise ValueError(f"with a template, the template reads {name!r} as {{{{ .{name} }}}}: name it "
                                     "with letters, digits and '_' only")
        return self


class Addon(Model):
    """One cluster add-on: a pinned Helm chart or a project's own manifests at its release tag.

    `release` is the application release it installs: custom resources are validated against that
    release's CustomResourceDefinitions. A chart's version is not always its application's
    (argo-helm's chart 8.1.x installs Argo CD v3.0.x): say beside the pin how the two were matched.
    """

    release: Version = Field(description="The application release this add-on installs (e.g. v2.9.0).")
    chart: HelmChart | None = Field(default=None, description="Install from this pinned Helm chart.")
    git: GitManifests | None = Field(
        default=None,
        description="Install from the project's own repository at the tag `release` (the release is then exact).",
    )
    namespace: NamespaceName = Field(description="Namespace the add-on runs in (created by Argo CD).")
    wave: Annotated[StrictInt, Field(ge=-34, le=-21)] = Field(
        default=-25,
        description="Argo CD sync wave among the cluster's Applications: after the `nvidia` RuntimeClass (-35), which "
        "the pods of GPU add-ons name.",
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Helm values (chart only).")
    kustomize: dict[str, Any] | None = Field(
        default=None, description="Argo CD `source.kustomize` settings, e.g. inline patches (git only)."
    )
    crds: AddonCrds | None = Field(default=None, description="The CustomResourceDefinitions it installs, if any.")
    cluster_resources: list[ClusterResource] = Field(
        default_factory=list,
        description="Cluster-scoped kinds it creates beyond those any add-on may (Namespace, CustomResourceDefinition, "
        "ClusterRole, ClusterRoleBinding, webhook configurations), e.g. {group: scheduling.k8s.io, kind: PriorityClass}: "
        "the cluster's AppProject lists them in clusterResourceWhitelist, without which Argo CD refuses to sync them.",
    )
    secrets: dict[SecretName, AddonSecret] = Field(
        default_factory=dict,
        description="Secrets it reads, by name, in its namespace: ExternalSecrets from the cluster's ESC environment "
        "(spec.esc), synced right after External Secrets.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Addon:
        if (self.chart is None) == (self.git is None):
            raise ValueError("an add-on installs from exactly one of chart or git")
        if self.values and self.chart is None:
            raise ValueError("values are Helm values: they need chart")
        if self.kustomize is not None and self.git is None:
            raise ValueError("kustomize settings apply to git manifests")
        return self


class ClusterMonitoring(Model):
    """Who watches the cluster: sophia's default alert rules, and who may scrape a service's metrics port."""

    prometheus: Name = Field(
        description="The add-on that runs Prometheus: the alert rules (PrometheusRules) go to its namespace, and a "
        "service's `metrics` port is opened to its Prometheus pods."
    )
    pod_labels: dict[LabelKey, LabelValue] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "prometheus"},
        min_length=1,
        description="Labels of the Prometheus pods (prometheus-operator labels them app.kubernetes.io/name: prometheus).",
    )
    alerts: StrictBool = Field(
        default=True,
        description="Emit sophia's default alert rules (PrometheusRules, dist/clusters/<name>/monitoring/); false leaves "
        "alerting to rules of your own.",
    )


class ClusterSpec(Model):
    source: GitSource | None = Field(
        default=None,
        description="Where Argo CD reads the cluster's own folder (dist/clusters/<name>/): add-ons and "
        "cluster-wide objects. Without it, sophia emits nothing cluster-wide.",
    )
    argocd: ArgoCD = Field(default_factory=lambda: ArgoCD(), description="Argo CD settings.")
    addons: dict[Name, Addon] = Field(
        default_factory=dict,
        description="What the cluster runs besides sophia's output, by name: pinned releases, installed by the "
        "cluster's Argo CD when `source` is set.",
    )
    esc: Esc | None = Field(
        default=None,
        description="Pulumi ESC environment the add-ons' secrets come from (the cluster's own, not an environment's).",
    )
    monitoring: ClusterMonitoring | None = Field(
        default=None, description="Prometheus and sophia's default alert rules; without it nothing is scraped or alerted."
    )
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]+$")] = Field(
        default="1.33", description="Kubernetes minor version of the cluster (k3s line)."
    )
    node_pools: dict[Name, NodePool] = Field(min_length=1, description="Groups of machines, by label.")

    def installers(self, group: str) -> list[str]:
        """The add-ons whose CustomResourceDefinitions serve `group`, by name."""
        return sorted(n for n, a in self.addons.items() if a.crds is not None and group in a.crds.groups)


class Cluster(Model):
    api_version: Literal["sophia.ai/v1alpha1"]
    kind: Literal["Cluster"]
    metadata: Metadata = Field(description="metadata.name is the Argo CD destination cluster name.")
    spec: ClusterSpec
