"""`ServiceSpec` (one service as compiled), its waivers and patches, and the `ServiceCatalog` kind."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)
from pydantic.alias_generators import to_camel

from sophia.model.kinds.fields import _CRON, EnvName, Metadata, Model, Name, NonNegativeInt, PlainText, PortName, _check
from sophia.model.kinds.pod import (
    KUBERNETES_GRACE_SECONDS,
    InitContainer,
    JobSettings,
    Lifecycle,
    Metrics,
    PodAnnotations,
    PodLabels,
    Sidecar,
    TopologySpread,
)
from sophia.model.kinds.service_parts import (
    Autoscaling,
    Dependency,
    Egress,
    Expose,
    Gpu,
    Image,
    Placement,
    Probes,
    Resources,
    SecretRef,
    ServicePort,
    Volume,
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
    "SOPHIA-PSS-005", "SOPHIA-PSS-006", "SOPHIA-PSS-007", "SOPHIA-PSS-008", "SOPHIA-PSS-009",
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
