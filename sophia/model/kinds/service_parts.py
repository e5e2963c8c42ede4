"""Parts of a service: its image, ports, resources, probes, scaling, placement, volumes, dependencies,
GPUs, secrets, exposure and internet egress."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    model_validator,
)

from sophia.model.kinds.fields import (
    _DIGEST,
    URL_PATH,
    Cpu,
    EnvName,
    GpuModel,
    Memory,
    Model,
    Name,
    NamespaceName,
    NonNegativeInt,
    Port,
    PortName,
    PositiveInt,
    UrlScheme,
    _check,
    _limit,
)
from sophia.values import DNS1123_LABEL as _DNS1123_LABEL
from sophia.values import IMAGE_REPOSITORY as _REPOSITORY
from sophia.values import IMAGE_TAG as _TAG


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
