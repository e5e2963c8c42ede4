"""The pod around a service's main container: init containers and sidecars, shutdown, topology
spread, pod labels and annotations, job settings, metrics."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from sophia.model.kinds.fields import (
    _DIGEST,
    _LABEL_KEY,
    URL_PATH,
    EnvName,
    LabelKey,
    LabelValue,
    Model,
    NonNegativeInt,
    PlainText,
    Port,
    PortName,
    PositiveInt,
    _check,
)
from sophia.model.kinds.service_parts import Probes, Resources
from sophia.values import DNS1123_LABEL as _DNS1123_LABEL
from sophia.values import IMAGE_REPOSITORY as _REPOSITORY
from sophia.values import IMAGE_TAG as _TAG

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
