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
Kubernetes. Defaults are declared once, here, with a description.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)
from pydantic.alias_generators import to_camel

from sophia.values import DNS1035_LABEL as _DNS1035_LABEL
from sophia.values import DNS1123_LABEL as _DNS1123_LABEL
from sophia.values import DNS1123_SUBDOMAIN as _DNS1123_SUBDOMAIN
from sophia.values import ENV_NAME as _ENV_NAME
from sophia.values import IMAGE_REPOSITORY as _REPOSITORY
from sophia.values import IMAGE_TAG as _TAG
from sophia.values import ip_literals

API_VERSION = "sophia.ai/v1alpha1"

_CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$")
_MEMORY = re.compile(r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
"""A Kubernetes qualified name: an optional DNS-1123 subdomain prefix and `/`, then at most 63 characters."""
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|hourly)|(\S+\s+){4}\S+)$")


def _check(pattern: re.Pattern[str], what: str, max_len: int) -> Any:
    def check(value: str) -> str:
        if len(value) > max_len or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return AfterValidator(check)


def _limit(max_len: int, why: str) -> Any:
    """At most `max_len` characters, refused with the reason (which Kubernetes field the value becomes)."""

    def check(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"{value!r} is {len(value)} characters, more than {max_len}: {why}")
        return value

    return AfterValidator(check)


def _no_double_hyphen(value: str) -> str:
    if "--" in value:
        raise ValueError(f"{value!r} holds '--': a Kubernetes port name is an IANA service name, which may not")
    return value


def _no_ip(value: str) -> str:
    if ip_literals(value):
        raise ValueError(
            f"{value!r} holds an IP address; address machines by node labels and services by "
            "declared dependencies"
        )
    return value


Name = Annotated[
    str,
    _check(_DNS1035_LABEL, "name (lowercase letters, digits and '-', starting with a letter, at most 63)", 63),
]
NamespaceName = Annotated[str, _check(_DNS1123_LABEL, "Kubernetes namespace name (DNS-1123 label)", 63)]
PortName = Annotated[
    str, _check(_DNS1035_LABEL, "port name (lowercase, at most 15 characters)", 15), AfterValidator(_no_double_hyphen)
]
EnvName = Annotated[
    str,
    _check(_ENV_NAME, "environment variable name", 255),
    _limit(253, "sophia writes it as a key of a ConfigMap or Secret, and Kubernetes limits those keys to 253"),
]
Cpu = Annotated[str, _check(_CPU, "CPU quantity (for example 500m or 2)", 32)]
Memory = Annotated[str, _check(_MEMORY, "memory quantity (for example 512Mi or 4Gi)", 32)]
LabelKey = Annotated[str, _check(_LABEL_KEY, "label key", 253)]
LabelValue = Annotated[str, _check(_LABEL_VALUE, "label value", 63), AfterValidator(_no_ip)]
Hostname = Annotated[str, _check(_DNS1123_SUBDOMAIN, "host name", 253), AfterValidator(_no_ip)]
PlainText = Annotated[str, AfterValidator(_no_ip)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]
UrlScheme = Annotated[str, _check(re.compile(r"^[a-z][a-z0-9+.-]*$"), "URL scheme", 32)]
URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
"""A URL path a dependency may append (no query, no fragment)."""

GpuModel = Literal["GH200", "A100", "A6000", "A10", "RTX6000"]
"""The GPU models of the fleet. Anything else (an rtx-4090, say) is an error."""


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )


# ---------------------------------------------------------------------------------------------
# Envelope


class Metadata(Model):
    name: Name = Field(description="Name of this definition (a DNS-1035 label).")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, description="Free-form labels.")


# ---------------------------------------------------------------------------------------------
# Service building blocks


class Image(Model):
    repository: Annotated[str, _check(_REPOSITORY, "image repository (registry/name, no tag)", 255)] = Field(
        description="Image repository without tag, e.g. `scoobyjava15/sophia-backend`."
    )
    tag: Annotated[str, _check(_TAG, "image tag", 128)] | None = Field(
        default=None,
        description="Tag for third-party images pinned in the catalogue; our own images take "
        "their tag from the Release.",
    )
    digest: Annotated[str, _check(_DIGEST, "image digest (sha256:<64 hex>)", 71)] | None = Field(
        default=None, description="Content digest; pins the image exactly."
    )


class ImageVersion(Model):
    tag: Annotated[str, _check(_TAG, "image tag", 128)] | None = Field(default=None, description="Image tag.")
    digest: Annotated[str, _check(_DIGEST, "image digest (sha256:<64 hex>)", 71)] | None = Field(
        default=None, description="Content digest (wins over the tag when both are given)."
    )

    @model_validator(mode="after")
    def _one_of(self) -> ImageVersion:
        if self.tag is None and self.digest is None:
            raise ValueError("give a tag or a digest")
        return self


class ServicePort(Model):
    port: Port = Field(description="Port the container listens on; the Service exposes the same.")
    protocol: Literal["TCP", "UDP"] = Field(default="TCP", description="Transport protocol.")
    scheme: UrlScheme = Field(
        default="http", description="URL scheme dependants use to reach this port (http, redis, postgresql...)."
    )


_SUFFIX_FACTORS: dict[str, Fraction] = {
    suffix: Fraction(factor) for suffix, factor in (
        ("", 1), ("m", Fraction(1, 1000)), ("k", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12),
        ("Ki", 2**10), ("Mi", 2**20), ("Gi", 2**30), ("Ti", 2**40),
    )
}


def quantity_value(text: str) -> Fraction:
    """The exact value of a `Cpu` or `Memory` amount (their grammars are a subset of Kubernetes quantities)."""
    number = text.rstrip("kmMGTi")
    return Fraction(number) * _SUFFIX_FACTORS[text[len(number):]]


class ResourceAmounts(Model):
    cpu: Cpu = Field(description="CPU, in cores or millicores.")
    memory: Memory = Field(description="Memory, in bytes with a binary suffix.")


class Resources(Model):
    requests: ResourceAmounts = Field(description="What the scheduler reserves.")
    limits: ResourceAmounts = Field(description="The most the container may use.")

    @model_validator(mode="after")
    def _within_limits(self) -> Resources:
        for what in ("cpu", "memory"):
            request, limit = getattr(self.requests, what), getattr(self.limits, what)
            if quantity_value(request) > quantity_value(limit):
                raise ValueError(f"requests.{what} {request} is more than limits.{what} {limit}: Kubernetes refuses "
                                 "a request above its limit")
        return self


class HttpCheck(Model):
    path: Annotated[str, Field(pattern=r"^/")] = Field(description="HTTP path, starting with '/'.")
    port: PortName = Field(description="Name of one of the service's ports.")


class TcpCheck(Model):
    port: PortName = Field(description="Name of one of the service's ports.")


class Probe(Model):
    http: HttpCheck | None = Field(default=None, description="An HTTP GET that must answer 2xx/3xx.")
    tcp: TcpCheck | None = Field(default=None, description="A TCP connect.")
    exec: list[str] | None = Field(default=None, description="A command that must exit 0.")
    initial_delay_seconds: NonNegativeInt = Field(default=0, description="Wait before the first check.")
    period_seconds: PositiveInt = Field(default=10, description="Seconds between checks.")
    timeout_seconds: PositiveInt = Field(default=3, description="Seconds before a check fails.")
    failure_threshold: PositiveInt = Field(default=3, description="Failures in a row that count.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Probe:
        given = [n for n in ("http", "tcp", "exec") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a probe takes exactly one of http, tcp or exec")
        if self.exec is not None and not self.exec:
            raise ValueError("an exec probe needs a command")
        return self


class Probes(Model):
    liveness: Probe | None = Field(default=None, description="Restart the container when it fails.")
    readiness: Probe | None = Field(default=None, description="Take the pod out of its Service when it fails.")
    startup: Probe | None = Field(
        default=None, description="For slow starters: liveness waits until this succeeds once."
    )


class Autoscaling(Model):
    min_replicas: PositiveInt = Field(description="Fewest replicas.")
    max_replicas: PositiveInt = Field(description="Most replicas (the capacity check counts these).")
    target_cpu_utilization: Annotated[StrictInt, Field(ge=1, le=100)] = Field(
        default=70, alias="targetCPUUtilization", description="Average CPU utilisation to aim for, in percent."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("minReplicas is larger than maxReplicas")
        return self


class Placement(Model):
    pool: Name = Field(description="Node pool (of the environment's cluster) the pods run on.")


def _positive_size(value: str) -> str:
    if quantity_value(value) == 0:
        raise ValueError(f"{value!r}: a volume claim must request more than zero bytes of storage")
    return value


class Volume(Model):
    mount_path: Annotated[str, Field(pattern=r"^/")] = Field(description="Where the volume is mounted.")
    size: Annotated[Memory, AfterValidator(_positive_size)] = Field(description="Requested size, e.g. 10Gi.")
    storage_class: NamespaceName = Field(default="local-path", description="StorageClass (k3s ships local-path).")


DependencyFormat = Literal["url", "host", "port", "host-port"]

_DEFAULT_SUFFIX: dict[str, str] = {"url": "URL", "host": "HOST", "port": "PORT", "host-port": "ADDRESS"}


class Dependency(Model):
    """One connection to another service of the environment; sophia injects its address as an env var.

    A service may depend on the same service several times, each time into its own variable (a
    backend's `BACKEND_URL` and its websocket `WEBSOCKET_URL`, say).
    """

    service: Name = Field(description="The service depended on.")
    port: PortName | None = Field(
        default=None, description="Which of its named ports; defaults to its only (or first) port."
    )
    env: EnvName | None = Field(
        default=None,
        description="Env var that receives the address; defaults to <SERVICE>_URL (_HOST, _PORT, _ADDRESS for "
        "the other formats; upper case, '-' as '_').",
    )
    format: DependencyFormat = Field(
        default="url",
        description="What the variable holds: url (scheme://host:port[path]), host (the cluster DNS name), "
        "port (the number) or host-port (host:port).",
    )
    scheme: UrlScheme | None = Field(
        default=None, description="URL scheme for this caller (e.g. ws); defaults to the port's scheme. url only."
    )
    path: Annotated[str, _check(URL_PATH, "URL path", 1024)] | None = Field(
        default=None, description="Path appended to the URL (e.g. /ws). url only."
    )

    @model_validator(mode="after")
    def _url_parts(self) -> Dependency:
        if self.format != "url":
            for part in ("scheme", "path"):
                if getattr(self, part) is not None:
                    raise ValueError(f"{part} only applies to format: url, not {self.format}")
        return self

    @property
    def variable(self) -> str:
        """The env var the address is injected as: declared, or <SERVICE>_URL (_HOST, _PORT, _ADDRESS)."""
        return self.env or f"{self.service.upper().replace('-', '_')}_{_DEFAULT_SUFFIX[self.format]}"


def _whole_gpus(value: Any) -> Any:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(
            f"{value} GPUs: nvidia.com/gpu only takes whole GPUs; ask for 1 and share a GPU inside one "
            "pod, or configure GPU time-slicing in the device plugin"
        )
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not a whole number of GPUs")
    return value


class Gpu(Model):
    models: list[GpuModel] = Field(min_length=1, description="Acceptable GPU models, in order of preference.")
    count: Annotated[StrictInt, BeforeValidator(_whole_gpus), Field(ge=1)] = Field(
        default=1, description="Whole GPUs per replica. Fractions are not schedulable."
    )


ESC_PATH = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class SecretRef(Model):
    key: Annotated[str, Field(pattern=ESC_PATH)] = Field(
        description="Pulumi path of the value in the environment's ESC environment: `<system>.<field>`, "
        "e.g. `postgres.password` (see environments/README.md for the scheme)."
    )
    mount_path: Annotated[str, Field(pattern=r"^/")] | None = Field(
        default=None, description="Mount as a read-only file at this path instead of an env var."
    )


def _prefix_path(value: str) -> str:
    """The rules the API server applies to an Ingress path of type Prefix."""
    for part in ("//", "/./", "/../", "%2f", "%2F"):
        if part in value:
            raise ValueError(f"{value!r} holds {part!r}, which Kubernetes refuses in an Ingress path")
    for end in ("/..", "/."):
        if value.endswith(end):
            raise ValueError(f"{value!r} ends with {end!r}, which Kubernetes refuses in an Ingress path")
    return value


class Expose(Model):
    host: Annotated[str, _check(_DNS1123_LABEL, "host label", 63)] = Field(
        description="First label of the host name; the environment's domain completes it."
    )
    path: Annotated[str, Field(pattern=r"^/"), AfterValidator(_prefix_path)] = Field(
        default="/", description="URL path prefix (an Ingress path of type Prefix)."
    )
    port: PortName | None = Field(default=None, description="Port to expose; defaults to the first.")


EGRESS_ANNOTATION_PREFIX = "sophia.ai/egress."
"""Each declared internet destination is written on the NetworkPolicy as `sophia.ai/egress.<name>: <reason>`."""


class Egress(Model):
    name: Annotated[
        Name,
        _limit(56, "sophia writes it into the annotation key sophia.ai/egress.<name>, and Kubernetes limits the part "
                   "after the '/' to 63 characters"),
    ] = Field(description="What is reached (gong, openrouter, snowflake...); at most 56 characters.")
    reason: Annotated[str, Field(min_length=3)] = Field(description="Why this service needs the internet.")
    ports: list[Port] = Field(default_factory=lambda: [443], description="Destination ports.")


# ---------------------------------------------------------------------------------------------
# The pod around the main container: init containers and sidecars, shutdown, spread, pod metadata

ImageRepository = Annotated[str, _check(_REPOSITORY, "image repository (registry/name, no tag)", 255)]
ImageTag = Annotated[str, _check(_TAG, "image tag", 128)]
ImageDigest = Annotated[str, _check(_DIGEST, "image digest (sha256:<64 hex>)", 71)]
ContainerName = Annotated[str, _check(_DNS1123_LABEL, "container name (lowercase letters, digits and '-', at most 63)", 63)]


class PinnedImage(Model):
    """The image of an init container or sidecar, pinned where it is written (the Release pins only the
    services' own images)."""

    repository: ImageRepository = Field(description="Image repository without tag, e.g. `fluent/fluent-bit`.")
    tag: ImageTag | None = Field(default=None, description="Image tag; `latest` is never accepted.")
    digest: ImageDigest | None = Field(default=None, description="Content digest; pins the image exactly.")

    @model_validator(mode="after")
    def _pinned(self) -> PinnedImage:
        if self.tag == "latest":
            raise ValueError("image tag 'latest' is not a version: pin a version tag or a digest")
        if self.tag is None and self.digest is None:
            raise ValueError("the image is not pinned: give a tag or a digest")
        return self

    @property
    def reference(self) -> str:
        """`repository:tag`, `repository@digest`, or both (the digest is what runs)."""
        if self.digest is None:
            return f"{self.repository}:{self.tag}"
        return f"{self.repository}@{self.digest}" if self.tag is None else f"{self.repository}:{self.tag}@{self.digest}"


class ContainerPort(Model):
    port: Port = Field(description="Port the container listens on, inside the pod (the Service exposes only the service's ports).")
    protocol: Literal["TCP", "UDP"] = Field(default="TCP", description="Transport protocol.")


class InitContainer(Model):
    """A container that runs to completion before the pod's other containers start, in the order listed.

    It is hardened exactly like the main container (the same securityContext, named relaxations and
    runAsUser) and mounts the same scratch folders; it gets only its own `env`.
    """

    name: ContainerName = Field(description="Container name, unique in the pod (the main container is named like the service).")
    image: PinnedImage = Field(description="Image, pinned here by tag or digest.")
    command: list[PlainText] | None = Field(default=None, description="Overrides the image entrypoint.")
    args: list[PlainText] | None = Field(default=None, description="Arguments to the entrypoint.")
    env: dict[EnvName, PlainText] = Field(default_factory=dict, description="Plain, non-secret env values of this container.")
    resources: Resources = Field(description="Requests and limits (counted by the capacity check).")


class Sidecar(InitContainer):
    """A helper container beside the main container for the pod's whole life: an init container's fields,
    plus ports and probes. It is a Kubernetes native sidecar (an init container with restartPolicy Always):
    it starts after the init containers and before the main container, and stops after it, so a Job
    whose main container ends still completes."""

    ports: dict[PortName, ContainerPort] = Field(default_factory=dict, description="Named ports (unique in the pod).")
    probes: Probes = Field(default_factory=Probes, description="Health checks of the sidecar, on its own ports.")

    @model_validator(mode="after")
    def _probe_ports(self) -> Sidecar:
        for kind in ("liveness", "readiness", "startup"):
            probe = getattr(self.probes, kind)
            check = probe and (probe.http or probe.tcp)
            if check and check.port not in self.ports:
                raise ValueError(f"probes.{kind} uses port {check.port!r}, which is not one of the sidecar's ports")
        return self


class PreStop(Model):
    """What runs before the main container is stopped: exactly one of a command or a pause."""

    exec: list[PlainText] | None = Field(default=None, description="A command run in the container; the stop signal waits for it.")
    sleep_seconds: PositiveInt | None = Field(
        default=None,
        description="Seconds to wait before the stop signal (Kubernetes' sleep action, no shell needed): time for "
        "the Service's endpoints to drop the pod before it stops accepting connections.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PreStop:
        if (self.exec is None) == (self.sleep_seconds is None):
            raise ValueError("preStop takes exactly one of exec or sleepSeconds")
        if self.exec is not None and not self.exec:
            raise ValueError("an exec preStop needs a command")
        return self


class Lifecycle(Model):
    pre_stop: PreStop = Field(description="Runs before the main container is stopped (within the grace period).")


KUBERNETES_GRACE_SECONDS = 30
"""terminationGracePeriodSeconds when a pod does not set it."""


class TopologySpread(Model):
    """Replicas spread over the nodes of the service's pool (`topologySpreadConstraints` on
    `kubernetes.io/hostname`, counting the service's own pods on the pool's nodes only)."""

    max_skew: PositiveInt = Field(default=1, description="How many more of its pods one node may run than the node with the fewest.")
    when_unsatisfiable: Literal["ScheduleAnyway", "DoNotSchedule"] = Field(
        default="ScheduleAnyway",
        description="ScheduleAnyway: spread where possible; DoNotSchedule: leave a pod pending rather than skew more.",
    )


class JobSettings(Model):
    """How a `type: job` runs (its Job's spec)."""

    backoff_limit: NonNegativeInt = Field(default=2, description="Retries before the Job fails (and with it the Argo CD sync).")
    active_deadline_seconds: PositiveInt = Field(default=3600, description="Seconds the Job may run in all, retries included.")
    ttl_seconds_after_finished: NonNegativeInt | None = Field(
        default=None,
        description="Seconds after it finishes that Kubernetes deletes the Job; unset, it stays (with its pods' logs) "
        "until the next sync replaces it.",
    )


SOPHIA_LABELS = (
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
    "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
)
"""The labels sophia sets on every pod (the first two are its selector): `podLabels` may not set them."""
SOPHIA_PREFIX = "sophia.ai/"
"""sophia's own labels and annotations (config hash, security exception, waivers)."""
TOTAL_ANNOTATION_BYTES = 256 * 1024
"""Kubernetes' limit on an object's annotations, keys and values together."""


def _annotation_key(value: str) -> str:
    """A qualified name, checked in lower case as the API server does (annotation keys may hold capitals)."""
    if len(value) > 253 or not _LABEL_KEY.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not a valid annotation key (an optional DNS subdomain and '/', then at most 63 "
                         "letters, digits, '-', '_' or '.')")
    return value


def _not_sophias_label(key: str) -> str:
    if key in SOPHIA_LABELS or key.startswith(SOPHIA_PREFIX):
        raise ValueError(f"sophia sets this label itself (its own {', '.join(SOPHIA_LABELS)} and {SOPHIA_PREFIX}*)")
    return key


def _not_sophias_annotation(key: str) -> str:
    if key.lower().startswith(SOPHIA_PREFIX):
        raise ValueError(f"annotations under {SOPHIA_PREFIX} are sophia's own")
    return key


def _annotations_fit(value: dict[str, str]) -> dict[str, str]:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in value.items())
    if size > TOTAL_ANNOTATION_BYTES:
        raise ValueError(f"they hold {size} bytes, more than the {TOTAL_ANNOTATION_BYTES} Kubernetes allows an object's "
                         "annotations (keys and values together)")
    return value


AnnotationKey = Annotated[str, AfterValidator(_annotation_key)]
PodLabels = dict[Annotated[LabelKey, AfterValidator(_not_sophias_label)], LabelValue]
PodAnnotations = Annotated[
    dict[Annotated[AnnotationKey, AfterValidator(_not_sophias_annotation)], PlainText], AfterValidator(_annotations_fit)
]


class Metrics(Model):
    """Prometheus metrics the service serves: the cluster's Prometheus may reach this port, nothing else."""

    port: PortName = Field(description="Name of the port that serves the metrics (one of the service's ports).")
    path: Annotated[str, _check(URL_PATH, "URL path", 1024)] = Field(
        default="/metrics", description="HTTP path of the metrics."
    )


WorkloadType = Literal["web", "worker", "stateful", "cronjob", "daemonset", "job"]
RUN_TO_COMPLETION = ("cronjob", "job")
"""Workload types whose pods end: they need no probes."""

LLM_VARIABLES = ("LLM_GATEWAY_URL", "OPENAI_BASE_URL", "LLM_ROUTING_STRATEGY", "LLM_ROUTING_TARGETS")
"""The env vars `callsLlm` injects (the gateway's address and routing)."""

POD_IP_VARIABLE = "POD_IP"
"""Defined from the downward API (status.podIP) when a command or args use `$(POD_IP)`: the pod's own
address, which is what binding "all interfaces" means inside a pod without writing an IP."""


def uses_pod_ip(spec: ServiceSpec) -> bool:
    """Whether the service's command or args use `$(POD_IP)`."""
    ref = f"$({POD_IP_VARIABLE})"
    return any(ref in arg for arg in [*(spec.command or []), *(spec.args or [])])


def _schedule(value: str) -> str:
    """As the API server parses a CronJob's schedule (robfig/cron: 5 fields in range, or a descriptor)."""
    from sophia.cron import schedule_errors  # only when a cronjob is defined

    for problem in schedule_errors(value):
        raise ValueError(f"{value!r} is not a schedule Kubernetes accepts: {problem}")
    return value


SCRATCH_PREFIX = "scratch"
SECRET_FILES_VOLUME = "secret-files"
"""Names of the volumes sophia adds to a pod itself (`scratch-<path>`, mounted secret files)."""


WaivableRule = Literal[
    "SOPHIA-PROBE-001", "SOPHIA-RES-001", "SOPHIA-PSS-001", "SOPHIA-PSS-002", "SOPHIA-PSS-003", "SOPHIA-PSS-004",
    "SOPHIA-PSS-005", "SOPHIA-PSS-006", "SOPHIA-PSS-007", "SOPHIA-PSS-008",
]
"""Policy rules of a workload that a service may waive for itself (each id is a rule of `sophia policy`):
the probe rule, and the hardening rules a `patches:` entry may weaken on purpose."""

JsonPointer = Annotated[str, Field(pattern=r"^(/([^~/]|~[01])*)*$")]
"""An RFC 6901 JSON pointer into a generated object (`/spec/template/spec/containers/0/lifecycle`)."""


class PatchOperation(Model):
    """One RFC 6902 operation."""

    op: Literal["add", "remove", "replace", "move", "copy", "test"] = Field(description="What to do at `path`.")
    path: JsonPointer = Field(description="Where, in the generated object (JSON pointer).")
    value: Any = Field(default=None, description="The value to add, replace with, or test for.")
    from_: JsonPointer | None = Field(default=None, alias="from", description="Source of a move or copy.")

    @model_validator(mode="after")
    def _complete(self) -> PatchOperation:
        if self.op in ("add", "replace", "test") and "value" not in self.model_fields_set:
            raise ValueError(f"a {self.op} operation needs a value")
        if self.op in ("move", "copy") and self.from_ is None:
            raise ValueError(f"a {self.op} operation needs from")
        return self


class PatchTarget(Model):
    kind: Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$")] = Field(description="Kind of the generated object.")
    name: Annotated[str, Field(min_length=1, max_length=253)] = Field(description="Its metadata.name.")


class ObjectPatch(Model):
    """RFC 6902 operations on one object sophia generates for the service, applied before rendering.

    The patched object goes through `sophia validate` (schemas and policy) like every other: a patch
    that weakens the hardening fails there unless the service waives that rule with a reason.
    """

    target: PatchTarget = Field(description="The generated object, by kind and name (in the service's application).")
    operations: list[PatchOperation] = Field(min_length=1, description="Applied in order (RFC 6902).")

WAIVER_ANNOTATION_PREFIX = "sophia.ai/waive."
"""The annotation prefix `sophia policy` reads a waiver from: `sophia.ai/waive.<RULE-ID>: <reason>`."""


class ServiceSpec(Model):
    """One service as compiled: the catalogue entry with the environment's overrides applied."""

    type: WorkloadType = Field(
        description="web: stateless HTTP/API (Deployment+Service); worker: background Deployment; "
        "stateful: StatefulSet with volumes; cronjob: scheduled job; daemonset: one pod on every node of its pool; "
        "job: a one-off Job, run by Argo CD on each sync of its application before its other workloads."
    )
    application: Name = Field(description="Argo CD application (and namespace key) the service belongs to.")
    component: Name = Field(default="service", description="Role inside the platform (api, database, cache, mcp...).")
    description: str = Field(default="", description="One line for humans; shows in the summary.")
    image: Image = Field(description="Container image; the tag usually comes from the Release.")
    command: list[PlainText] | None = Field(default=None, description="Overrides the image entrypoint.")
    args: list[PlainText] | None = Field(default=None, description="Arguments to the entrypoint.")
    ports: dict[PortName, ServicePort] = Field(default_factory=dict, description="Named ports.")
    env: dict[EnvName, PlainText] = Field(default_factory=dict, description="Plain, non-secret env values.")
    secrets: dict[EnvName, SecretRef] = Field(
        default_factory=dict, description="Secrets from Pulumi ESC, by env var name (or file)."
    )
    resources: Resources = Field(description="Requests and limits of the main container.")
    probes: Probes = Field(default_factory=Probes, description="Health checks.")
    replicas: NonNegativeInt = Field(default=1, description="Replicas when not autoscaled.")
    autoscaling: Autoscaling | None = Field(default=None, description="HorizontalPodAutoscaler bounds.")
    placement: Placement = Field(description="Node pool the pods run on.")
    volumes: dict[Name, Volume] = Field(default_factory=dict, description="Persistent volumes (stateful only).")
    scratch: list[Annotated[str, Field(pattern=r"^/")]] = Field(
        default_factory=lambda: ["/tmp"], description="Writable emptyDir mounts (the root filesystem is read-only)."
    )
    dependencies: list[Dependency] = Field(default_factory=list, description="Services this one calls.")
    gpu: Gpu | None = Field(default=None, description="GPUs per replica, by model.")
    expose: Expose | None = Field(default=None, description="Serve through the ingress at <host>.<domain>.")
    egress: list[Egress] = Field(default_factory=list, description="Internet destinations, each with a reason.")
    metrics: Metrics | None = Field(
        default=None,
        description="Prometheus metrics it serves: its NetworkPolicy lets the cluster's Prometheus (spec.monitoring of "
        "the Cluster) reach that port.",
    )
    calls_llm: StrictBool = Field(default=False, description="Gets the LLM gateway URL injected.")
    schedule: Annotated[str, _check(_CRON, "cron schedule", 64), AfterValidator(_schedule)] | None = Field(
        default=None, description="Cron schedule (cronjob only), as Kubernetes CronJobs read it."
    )
    job: JobSettings = Field(default_factory=JobSettings, description="Retries, deadline and clean-up (job only).")
    init_containers: list[InitContainer] = Field(
        default_factory=list, description="Run to completion, in order, before the sidecars and the main container start."
    )
    sidecars: list[Sidecar] = Field(
        default_factory=list, description="Helper containers beside the main container for the pod's life (native sidecars)."
    )
    lifecycle: Lifecycle | None = Field(default=None, description="Of the main container: what runs before it is stopped.")
    termination_grace_period_seconds: NonNegativeInt | None = Field(
        default=None,
        description="Seconds from the stop signal to the kill, preStop included; unset, Kubernetes' 30. Must exceed "
        "lifecycle.preStop.sleepSeconds.",
    )
    topology_spread: TopologySpread | None = Field(
        default=None, description="Spread the replicas over the pool's nodes (applied while more than one runs or it autoscales)."
    )
    pod_labels: PodLabels = Field(
        default_factory=dict, description="Extra labels of the pods (not of the selector); not sophia's own."
    )
    pod_annotations: PodAnnotations = Field(
        default_factory=dict, description="Extra annotations of the pods; not sophia.ai/ ones."
    )
    run_as_user: Annotated[StrictInt, Field(ge=10000)] = Field(default=10001, description="UID of the container.")
    waivers: dict[WaivableRule, Annotated[str, Field(min_length=10)]] = Field(
        default_factory=dict,
        description="Policy rules this service breaks on purpose, each with the reason (written on its workload "
        "as a sophia.ai/waive.<RULE-ID> annotation). SOPHIA-PROBE-001: the service has no health check at all.",
    )
    patches: list[ObjectPatch] = Field(
        default_factory=list,
        description="RFC 6902 escape hatch: operations on objects sophia generates for this service (an "
        "environment's patches are applied after the catalogue's).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSpec:
        if self.type == "cronjob":
            if self.schedule is None:
                raise ValueError("a cronjob needs a schedule")
        elif self.schedule is not None:
            raise ValueError(f"schedule is only for cronjobs, not {self.type}")
        if self.type == "web" and not self.ports:
            raise ValueError("a web service needs at least one port")
        probe_waived = "SOPHIA-PROBE-001" in self.waivers
        if probe_waived and (self.probes.liveness or self.probes.readiness or self.probes.startup):
            raise ValueError("probes are set, so the SOPHIA-PROBE-001 waiver is not needed: remove it")
        if probe_waived and self.type in RUN_TO_COMPLETION:
            raise ValueError(f"a {self.type} needs no probes: remove the SOPHIA-PROBE-001 waiver")
        if self.type not in RUN_TO_COMPLETION and not probe_waived and (self.probes.liveness is None or self.probes.readiness is None):
            raise ValueError(f"a {self.type} service runs for long: it needs probes.liveness and probes.readiness "
                             "(or, when it has no health check at all, waivers: {SOPHIA-PROBE-001: <reason>})")
        if self.volumes and self.type != "stateful":
            raise ValueError("persistent volumes need type: stateful")
        self._mounts_distinct()
        if self.type == "stateful" and not self.volumes:
            raise ValueError("a stateful service needs at least one volume")
        for probe_name in ("liveness", "readiness", "startup"):
            probe = getattr(self.probes, probe_name)
            if probe is None:
                continue
            check = probe.http or probe.tcp
            if check is not None and check.port not in self.ports:
                raise ValueError(f"probes.{probe_name} uses port {check.port!r}, which is not one of the service's ports")
        if self.expose and self.expose.port and self.expose.port not in self.ports:
            raise ValueError(f"expose.port {self.expose.port!r} is not one of the service's ports")
        if self.metrics and self.metrics.port not in self.ports:
            raise ValueError(f"metrics.port {self.metrics.port!r} is not one of the service's ports")
        return self


    @model_validator(mode="after")
    def _pod_shape(self) -> ServiceSpec:
        """What the pod around the main container must be: fields of its type only, distinct containers and
        ports, and a grace period longer than the preStop pause."""
        self._type_fields()
        self._containers_distinct()
        sleep = self.lifecycle.pre_stop.sleep_seconds if self.lifecycle else None
        grace = self.termination_grace_period_seconds
        if sleep is not None and sleep >= (KUBERNETES_GRACE_SECONDS if grace is None else grace):
            given = f"terminationGracePeriodSeconds {grace}" if grace is not None else \
                f"the grace period ({KUBERNETES_GRACE_SECONDS} seconds, Kubernetes' default)"
            raise ValueError(f"lifecycle.preStop.sleepSeconds {sleep} leaves no time to shut down: {given} must exceed "
                             "it, as the kubelet kills the container when the grace period ends, preStop included; raise "
                             "terminationGracePeriodSeconds or shorten the sleep")
        return self

    def _type_fields(self) -> None:
        """Fields that a daemonset (one pod per node) or a job (one run) cannot have."""
        given = self.model_fields_set
        if "job" in given and self.type != "job":
            raise ValueError(f"job settings are only for type: job, not {self.type}")
        fields: tuple[str, ...] = ()
        if self.type == "daemonset":
            fields, why = ("replicas", "autoscaling", "topology_spread"), "runs one pod on every node of its pool"
        elif self.type == "job":
            fields, why = ("replicas", "autoscaling", "topology_spread", "ports", "expose"), "runs one pod to completion"
        elif self.type == "cronjob":  # what it had before topologySpread stays as it was
            fields, why = ("topology_spread",), "runs one pod to completion"
        unfit = [f for f in fields if f in given and getattr(self, f) not in (None, {})]
        if unfit:
            raise ValueError(f"a {self.type} {why}: remove {', '.join(to_camel(f) for f in unfit)}")

    def _containers_distinct(self) -> None:
        """Container names, port names and ports once in the pod (the main container's name, the service's,
        is checked where it is known: `loader`)."""
        names: dict[str, str] = {}
        places = [*((f"initContainers[{i}]", c) for i, c in enumerate(self.init_containers)),
                  *((f"sidecars[{i}]", c) for i, c in enumerate(self.sidecars))]
        for where, container in places:
            if container.name in names:
                raise ValueError(f"container name {container.name!r} is used twice in the pod ({names[container.name]} and "
                                 f"{where}): Kubernetes refuses it")
            names[container.name] = where
        port_names: dict[str, str] = {n: f"ports.{n}" for n in self.ports}
        numbers: dict[tuple[int, str], str] = {(p.port, p.protocol): f"ports.{n}" for n, p in self.ports.items()}
        for i, sidecar in enumerate(self.sidecars):
            for name, port in sidecar.ports.items():
                where = f"sidecars[{i}].ports.{name}"
                if name in port_names:
                    raise ValueError(f"port name {name!r} is used twice in the pod ({port_names[name]} and {where}): a "
                                     "named port must name one port")
                if (port.port, port.protocol) in numbers:
                    raise ValueError(f"port {port.port}/{port.protocol} is used twice in the pod ({numbers[port.port, port.protocol]} "
                                     f"and {where}): the containers of a pod share one network")
                port_names[name] = where
                numbers[port.port, port.protocol] = where

    def _mounts_distinct(self) -> None:
        """Every mount path once in the container, and no volume named like sophia's own."""
        mounts: dict[str, str] = {}
        places = [(path, "scratch") for path in self.scratch]
        places += [(v.mount_path, f"volumes.{n}") for n, v in self.volumes.items()]
        places += [(s.mount_path, f"secrets.{n}") for n, s in self.secrets.items() if s.mount_path is not None]
        for path, where in places:
            if path in mounts:
                raise ValueError(f"{path} is mounted twice ({mounts[path]} and {where}): Kubernetes refuses a mount "
                                 "path used twice in one container")
            mounts[path] = where
        for name in self.volumes:
            if name in (SECRET_FILES_VOLUME, SCRATCH_PREFIX) or name.startswith(SCRATCH_PREFIX + "-"):
                raise ValueError(f"volume name {name!r} is reserved: sophia names its own volumes {SECRET_FILES_VOLUME!r} "
                                 f"and {SCRATCH_PREFIX}-<path>")


class CatalogSpec(Model):
    services: dict[Name, dict[str, Any]] = Field(
        description="Every service of the platform, by name; see ServiceSpec for the fields."
    )


class ServiceCatalog(Model):
    api_version: Literal["sophia.ai/v1alpha1"] = Field(description="Always sophia.ai/v1alpha1.")
    kind: Literal["ServiceCatalog"]
    metadata: Metadata
    spec: CatalogSpec


# ---------------------------------------------------------------------------------------------
# Release


class ReleaseSpec(Model):
    images: dict[Name, ImageVersion] = Field(
        default_factory=dict, description="Image tag or digest per service: what gets promoted."
    )


class Release(Model):
    api_version: Literal["sophia.ai/v1alpha1"]
    kind: Literal["Release"]
    metadata: Metadata
    spec: ReleaseSpec


# ---------------------------------------------------------------------------------------------
# Cluster


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


# ---------------------------------------------------------------------------------------------
# Environment


class GitSource(Model):
    repo_url: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)\S+$"), AfterValidator(_no_ip)] = Field(
        alias="repoURL", description="Git repository Argo CD syncs from."
    )
    target_revision: Annotated[str, Field(min_length=1)] = Field(description="Branch, tag or commit to sync.")
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = Field(
        default="dist", description="Folder of the repository that holds dist/."
    )


class ArgoCD(Model):
    namespace: NamespaceName = Field(default="argocd", description="Namespace Argo CD runs in.")


class SecurityException(Model):
    service: Name = Field(description="The one service relaxed.")
    relax: list[Literal["readOnlyRootFilesystem", "runAsNonRoot", "seccompProfile", "capabilities"]] = Field(
        min_length=1, description="Which hardening settings are relaxed."
    )
    reason: Annotated[str, Field(min_length=10)] = Field(description="Why; shows in the output.")


class ServiceOverride(Model):
    """What an environment may change about a catalogue service."""

    enabled: StrictBool = Field(default=True, description="false leaves the service out of this environment.")
    replicas: NonNegativeInt | None = Field(default=None, description="Replicas here.")
    autoscaling: Autoscaling | None = Field(default=None, description="Autoscaling bounds here.")
    topology_spread: TopologySpread | None = Field(
        default=None, description="Spread of the replicas over the pool's nodes here (the pool and replicas are per environment)."
    )
    resources: Resources | None = Field(default=None, description="Requests and limits here.")
    env: dict[EnvName, PlainText] = Field(default_factory=dict, description="Env values added or replaced here.")
    pod_labels: PodLabels = Field(default_factory=dict, description="Pod labels added or replaced here.")
    pod_annotations: PodAnnotations = Field(default_factory=dict, description="Pod annotations added or replaced here.")
    placement: Placement | None = Field(default=None, description="Node pool here.")
    volumes: dict[Name, Volume] | None = Field(default=None, description="Volume sizes here.")
    expose: Expose | None = Field(default=None, description="Ingress host here.")
    gpu: Gpu | None = Field(default=None, description="GPU models acceptable here.")
    metrics: Metrics | None = Field(default=None, description="Prometheus metrics port and path here.")
    waivers: dict[WaivableRule, Annotated[str, Field(min_length=10)]] = Field(
        default_factory=dict, description="Policy rules waived here too, each with the reason."
    )
    patches: list[ObjectPatch] = Field(
        default_factory=list, description="Patches applied here, after the catalogue's (RFC 6902 on generated objects)."
    )


class EscTokenSecret(Model):
    namespace: NamespaceName = Field(default="external-secrets", description="Bootstrap namespace of the token.")
    name: NamespaceName = Field(default="pulumi-esc-token", description="Secret created out of band (the only one).")
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")] = Field(default="access-token", description="Key in it.")


class Esc(Model):
    organization: Name = Field(description="Pulumi organization.")
    project: Name = Field(default="default", description="Pulumi ESC project.")
    environment: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(description="Pulumi ESC environment.")
    token_secret: EscTokenSecret = Field(default_factory=EscTokenSecret, description="Where the access token lives.")
    refresh_interval: Annotated[str, Field(pattern=r"^[0-9]+(s|m|h)$")] = Field(
        default="1h", description="How often ExternalSecrets re-read ESC."
    )


LlmProvider = Literal["openrouter", "openai", "anthropic", "groq", "mistral-ai", "together-ai", "perplexity-ai"]


class LlmTarget(Model):
    provider: LlmProvider = Field(description="Provider; its key is read from ESC at llm.<provider>.api_key.")
    model: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_./:-]+$")] | None = Field(
        default=None, description="Model to force for this target (override_params.model)."
    )
    weight: Annotated[float, Field(gt=0, le=1)] | None = Field(default=None, description="Share of traffic (loadbalance).")


class LlmRetry(Model):
    attempts: Annotated[StrictInt, Field(ge=0, le=5)] = Field(default=2, description="Retries per request.")
    on_status_codes: list[Annotated[StrictInt, Field(ge=400, le=599)]] = Field(
        default_factory=lambda: [429, 500, 502, 503, 504], description="Status codes that are retried."
    )


class LlmRouting(Model):
    strategy: Literal["fallback", "loadbalance", "single"] = Field(description="How targets are used.")
    targets: list[LlmTarget] = Field(min_length=1, description="Providers, in order (fallback) or weighted.")
    retry: LlmRetry = Field(default_factory=LlmRetry, description="Retries before falling back.")

    @model_validator(mode="after")
    def _shape(self) -> LlmRouting:
        if self.strategy == "single" and len(self.targets) != 1:
            raise ValueError("strategy single takes exactly one target")
        if self.strategy == "fallback" and len(self.targets) < 2:
            raise ValueError("strategy fallback needs at least two targets")
        if self.strategy == "loadbalance" and any(t.weight is None for t in self.targets):
            raise ValueError("strategy loadbalance needs a weight on every target")
        if self.strategy != "loadbalance" and any(t.weight is not None for t in self.targets):
            raise ValueError("weights are only for strategy loadbalance")
        providers = [t.provider + (t.model or "") for t in self.targets]
        if len(set(providers)) != len(providers):
            raise ValueError("the same provider and model appear twice among the targets")
        return self


class LlmGateway(Model):
    application: Name = Field(description="Application (namespace key) the gateway runs in.")
    placement: Placement = Field(description="Node pool of the gateway.")
    autoscaling: Autoscaling = Field(
        default_factory=lambda: Autoscaling(min_replicas=2, max_replicas=4), description="Replica bounds."
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(
            requests=ResourceAmounts(cpu="250m", memory="256Mi"), limits=ResourceAmounts(cpu="1", memory="512Mi")
        ),
        description="Requests and limits of the gateway container.",
    )
    routing: LlmRouting = Field(description="Routing among providers.")


class Tls(Model):
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] = Field(description="ACME account e-mail.")
    acme: Literal["production", "staging"] = Field(default="production", description="Let's Encrypt server to use.")


CommitSha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
"""A full git commit id: a revision that never moves."""


class Promotion(Model):
    """This environment runs what another one tested: its applications sync a promoted revision.

    The environment's root Application still follows `source.targetRevision` (the branch), so that
    `sophia promote` and `sophia rollback`, which change the Applications, take effect; every other
    Application syncs dist/ at `revision`. What main holds beyond it is pending (`sophia diff --pending`).
    """

    from_: Name = Field(alias="from", description="The environment whose tested revision and images this one takes.")
    revision: CommitSha = Field(description="The commit whose dist/ this environment's applications sync.")
    history: list[CommitSha] = Field(
        default_factory=list, max_length=20,
        description="Earlier promoted revisions, newest first (`sophia rollback` returns to the first).",
    )


class EnvironmentSpec(Model):
    release: Name = Field(description="Release (image versions) this environment runs.")
    cluster: Name = Field(description="Cluster (by name, never by address) it deploys to.")
    source: GitSource = Field(description="Where Argo CD reads dist/ from.")
    promotion: Promotion | None = Field(
        default=None,
        description="Promoted from another environment: the applications sync `promotion.revision` instead of "
        "following `source.targetRevision`.",
    )
    argocd: ArgoCD = Field(default_factory=ArgoCD, description="Argo CD settings.")
    namespaces: dict[Name, NamespaceName] = Field(
        min_length=1, description="Namespace of each application of the catalogue."
    )
    domain: Hostname | None = Field(default=None, description="DNS domain exposed hosts live under.")
    tls: Tls | None = Field(default=None, description="Certificates for exposed hosts (cert-manager ClusterIssuer).")
    services: dict[Name, ServiceOverride] = Field(
        default_factory=dict, description="Per-environment overrides of catalogue services."
    )
    exceptions: list[SecurityException] = Field(
        default_factory=list, description="Named, reasoned relaxations of pod hardening."
    )
    esc: Esc | None = Field(default=None, description="Pulumi ESC environment the secrets come from.")
    llm_gateway: LlmGateway | None = Field(default=None, description="The Portkey LLM gateway, if any.")


class Environment(Model):
    api_version: Literal["sophia.ai/v1alpha1"]
    kind: Literal["Environment"]
    metadata: Metadata
    spec: EnvironmentSpec


KINDS: dict[str, type[Model]] = {
    "ServiceCatalog": ServiceCatalog,
    "Release": Release,
    "Cluster": Cluster,
    "Environment": Environment,
}
