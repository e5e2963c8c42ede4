"""The environment format: pydantic v2 models of every file in `environments/`.

Four kinds of file, all shaped like Kubernetes objects (`apiVersion: sophia.ai/v1alpha1`):

* ``ServiceCatalog`` -- the shared base: every service's image repository, ports, probes,
  dependencies and default sizes. Exactly one per environments folder.
* ``Release`` -- what gets promoted: the image tag or digest of each service.
* ``Cluster`` -- the machines: node pools addressed by labels (never by IP), their taints,
  capacity and GPUs. Environments that share a cluster share its capacity.
* ``Environment`` -- what stays per environment: Argo CD destination, namespaces, git source,
  which release and cluster it runs, and overrides of replicas, resources, env and hosts.

Every model forbids unknown fields and is frozen. Field names are camelCase in YAML, as in
Kubernetes. Defaults are declared once, with a description, in the module of `sophia/model/kinds/`
that defines the model; this module gathers every public name in one namespace (`models.X`).
"""

from __future__ import annotations

from sophia.model.kinds.cluster import (
    EXTERNAL_SECRETS_GROUP,
    PROMETHEUS_OPERATOR_GROUP,
    Addon,
    AddonCrds,
    AddonSecret,
    ApiGroup,
    Capacity,
    Cluster,
    ClusterMonitoring,
    ClusterSpec,
    EscPath,
    GitManifests,
    HelmChart,
    NodePool,
    PoolGpu,
    SecretKey,
    SecretName,
    Taint,
    Version,
)
from sophia.model.kinds.common import ArgoCD, Esc, EscTokenSecret, GitSource
from sophia.model.kinds.environment import (
    CommitSha,
    Environment,
    EnvironmentSpec,
    LlmGateway,
    LlmProvider,
    LlmRetry,
    LlmRouting,
    LlmTarget,
    Promotion,
    SecurityException,
    ServiceOverride,
    Tls,
)
from sophia.model.kinds.fields import (
    API_VERSION,
    URL_PATH,
    Cpu,
    EnvName,
    GpuModel,
    Hostname,
    LabelKey,
    LabelValue,
    Memory,
    Metadata,
    Model,
    Name,
    NamespaceName,
    NonNegativeInt,
    PlainText,
    Port,
    PortName,
    PositiveInt,
    UrlScheme,
)
from sophia.model.kinds.pod import (
    KUBERNETES_GRACE_SECONDS,
    SOPHIA_LABELS,
    SOPHIA_PREFIX,
    TOTAL_ANNOTATION_BYTES,
    AnnotationKey,
    ContainerName,
    ContainerPort,
    ImageDigest,
    ImageRepository,
    ImageTag,
    InitContainer,
    JobSettings,
    Lifecycle,
    Metrics,
    PinnedImage,
    PodAnnotations,
    PodLabels,
    PreStop,
    Sidecar,
    TopologySpread,
)
from sophia.model.kinds.release import Release, ReleaseSpec
from sophia.model.kinds.service import (
    LLM_VARIABLES,
    POD_IP_VARIABLE,
    RUN_TO_COMPLETION,
    SCRATCH_PREFIX,
    SECRET_FILES_VOLUME,
    WAIVER_ANNOTATION_PREFIX,
    CatalogSpec,
    JsonPointer,
    ObjectPatch,
    PatchOperation,
    PatchTarget,
    ServiceCatalog,
    ServiceSpec,
    WaivableRule,
    WorkloadType,
    uses_pod_ip,
)
from sophia.model.kinds.service_parts import (
    EGRESS_ANNOTATION_PREFIX,
    ESC_PATH,
    Autoscaling,
    Dependency,
    DependencyFormat,
    Egress,
    Expose,
    Gpu,
    HttpCheck,
    Image,
    ImageVersion,
    Placement,
    Probe,
    Probes,
    ResourceAmounts,
    Resources,
    SecretRef,
    ServicePort,
    TcpCheck,
    Volume,
    quantity_value,
)

KINDS: dict[str, type[Model]] = {
    "ServiceCatalog": ServiceCatalog,
    "Release": Release,
    "Cluster": Cluster,
    "Environment": Environment,
}

__all__ = [
    "API_VERSION", "Addon", "AddonCrds", "AddonSecret", "AnnotationKey", "ApiGroup", "ArgoCD", "Autoscaling",
    "Capacity", "CatalogSpec", "Cluster", "ClusterMonitoring", "ClusterSpec", "CommitSha", "ContainerName",
    "ContainerPort", "Cpu", "Dependency", "DependencyFormat", "EGRESS_ANNOTATION_PREFIX", "ESC_PATH",
    "EXTERNAL_SECRETS_GROUP", "Egress", "EnvName", "Environment", "EnvironmentSpec", "Esc", "EscPath",
    "EscTokenSecret", "Expose", "GitManifests", "GitSource", "Gpu", "GpuModel", "HelmChart", "Hostname",
    "HttpCheck", "Image", "ImageDigest", "ImageRepository", "ImageTag", "ImageVersion", "InitContainer",
    "JobSettings", "JsonPointer", "KUBERNETES_GRACE_SECONDS", "LLM_VARIABLES", "LabelKey", "LabelValue",
    "Lifecycle", "LlmGateway", "LlmProvider", "LlmRetry", "LlmRouting", "LlmTarget", "Memory", "Metadata",
    "Metrics", "Model", "Name", "NamespaceName", "NodePool", "NonNegativeInt", "ObjectPatch",
    "POD_IP_VARIABLE", "PROMETHEUS_OPERATOR_GROUP", "PatchOperation", "PatchTarget", "PinnedImage",
    "Placement", "PlainText", "PodAnnotations", "PodLabels", "PoolGpu", "Port", "PortName", "PositiveInt",
    "PreStop", "Probe", "Probes", "Promotion", "RUN_TO_COMPLETION", "Release", "ReleaseSpec",
    "ResourceAmounts", "Resources", "SCRATCH_PREFIX", "SECRET_FILES_VOLUME", "SOPHIA_LABELS", "SOPHIA_PREFIX",
    "SecretKey", "SecretName", "SecretRef", "SecurityException", "ServiceCatalog", "ServiceOverride",
    "ServicePort", "ServiceSpec", "Sidecar", "TOTAL_ANNOTATION_BYTES", "Taint", "TcpCheck", "Tls",
    "TopologySpread", "URL_PATH", "UrlScheme", "Version", "Volume", "WAIVER_ANNOTATION_PREFIX",
    "WaivableRule", "WorkloadType", "quantity_value", "uses_pod_ip", "KINDS",
]
