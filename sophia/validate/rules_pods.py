"""Rules over pod templates: Pod Security Standards "restricted", resources, probes, image tags."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sophia.values import FieldPath

from .documents import Resource
from .rule import Rule, per_resource

_TEMPLATE_PATHS: dict[str, FieldPath] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_NO_PROBES = {"Job", "CronJob"}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_ALLOWED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}
_ALLOWED_ADD = {"NET_BIND_SERVICE"}
_SECCOMP_OK = {"RuntimeDefault", "Localhost"}


@dataclass(frozen=True)
class PodTemplate:
    path: FieldPath
    spec: dict[str, Any]
    labels: dict[str, Any]


@dataclass(frozen=True)
class Container:
    path: FieldPath
    name: str
    spec: dict[str, Any]
    regular: bool
    """False for init and ephemeral containers."""

    @property
    def security(self) -> dict[str, Any]:
        return _dict(self.spec.get("securityContext"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _get(value: Any, *keys: str | int) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def pod_template(resource: Resource) -> PodTemplate | None:
    """The pod template of a workload (or the Pod itself), or None for other kinds."""
    path = _TEMPLATE_PATHS.get(resource.kind)
    if path is None or resource.api_version.startswith("sophia.ai/"):
        return None
    spec = _get(resource.data, *path)
    if not isinstance(spec, dict):
        return None
    labels = _get(resource.data, *path[:-1], "metadata", "labels")
    return PodTemplate(path, spec, labels if isinstance(labels, dict) else {})


def containers(template: PodTemplate) -> Iterator[Container]:
    for list_name in _CONTAINER_LISTS:
        items = template.spec.get(list_name)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                name = item.get("name")
                yield Container((*template.path, list_name, i), str(name or f"#{i}"), item, list_name == "containers")


def _pod_rule(check: Any) -> Any:
    def run(resource: Resource) -> Iterable[tuple[FieldPath, str]]:
        template = pod_template(resource)
        if template is not None:
            yield from check(resource, template)

    return per_resource(run)


def _run_as_non_root(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    pod_sc = _dict(pod.spec.get("securityContext"))
    pod_says = pod_sc.get("runAsNonRoot") is True
    if pod_sc.get("runAsUser") == 0:
        yield (*pod.path, "securityContext", "runAsUser"), "pod runs as user 0 (root)"
    for c in containers(pod):
        value = c.security.get("runAsNonRoot")
        if value is False or (value is None and not pod_says):
            yield (*c.path, "securityContext", "runAsNonRoot"), f'container "{c.name}" may run as root'
        if c.security.get("runAsUser") == 0:
            yield (*c.path, "securityContext", "runAsUser"), f'container "{c.name}" runs as user 0 (root)'


def _no_privilege_escalation(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        if c.security.get("allowPrivilegeEscalation") is not False:
            yield (
                (*c.path, "securityContext", "allowPrivilegeEscalation"),
                f'container "{c.name}" does not set allowPrivilegeEscalation: false',
            )


def _capabilities(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        caps = _dict(c.security.get("capabilities"))
        drop: list[Any] = caps["drop"] if isinstance(caps.get("drop"), list) else []
        if "ALL" not in drop:
            yield (*c.path, "securityContext", "capabilities", "drop"), f'container "{c.name}" does not drop ALL capabilities'
        add: list[Any] = caps["add"] if isinstance(caps.get("add"), list) else []
        extra = sorted(str(a) for a in add if a not in _ALLOWED_ADD)
        if extra:
            yield (
                (*c.path, "securityContext", "capabilities", "add"),
                f'container "{c.name}" adds capabilities {", ".join(extra)} (only NET_BIND_SERVICE is allowed)',
            )


def _seccomp(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    pod_type = _get(pod.spec, "securityContext", "seccompProfile", "type")
    if pod_type is not None and pod_type not in _SECCOMP_OK:
        yield (*pod.path, "securityContext", "seccompProfile", "type"), f"pod seccompProfile is {pod_type}"
    for c in containers(pod):
        own = _get(c.security, "seccompProfile", "type")
        if own is not None and own not in _SECCOMP_OK:
            yield (*c.path, "securityContext", "seccompProfile", "type"), f'container "{c.name}" seccompProfile is {own}'
        elif own is None and pod_type not in _SECCOMP_OK:
            yield (*c.path, "securityContext", "seccompProfile"), f'container "{c.name}" has no seccompProfile'


def _host_namespaces(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(key) is True:
            yield (*pod.path, key), f"pod sets {key}: true"


def _volume_types(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    volumes = pod.spec.get("volumes")
    for i, volume in enumerate(volumes if isinstance(volumes, list) else []):
        if not isinstance(volume, dict):
            continue
        for key in sorted(set(volume) - {"name"} - _ALLOWED_VOLUMES):
            yield (*pod.path, "volumes", i, key), f'volume "{volume.get("name", i)}" is of type {key}'


def _privileged(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        if c.security.get("privileged") is True:
            yield (*c.path, "securityContext", "privileged"), f'container "{c.name}" is privileged'


def _host_ports(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        ports = c.spec.get("ports")
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            if isinstance(port, dict) and port.get("hostPort"):
                yield (*c.path, "ports", i, "hostPort"), f'container "{c.name}" uses hostPort {port["hostPort"]}'


def _resources(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        if c.path[-2] == "ephemeralContainers":
            continue
        res = _dict(c.spec.get("resources"))
        missing = [
            f"{section}.{name}"
            for section in ("requests", "limits")
            for name in ("cpu", "memory")
            if _get(res, section, name) in (None, "")
        ]
        if missing:
            yield (*c.path, "resources"), f'container "{c.name}" has no {", ".join(missing)}'


def _probes(resource: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    if resource.kind in _NO_PROBES:
        return
    for c in containers(pod):
        if not c.regular:
            continue
        missing = [p for p in ("livenessProbe", "readinessProbe") if not isinstance(c.spec.get(p), dict)]
        if missing:
            yield c.path, f'container "{c.name}" has no {" and no ".join(missing)}'


def image_problem(image: str) -> str | None:
    """Why an image reference is not pinned, or None when it has a tag other than latest or a digest."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses the :latest tag"
    return None


def _images(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        image = c.spec.get("image")
        if isinstance(image, str):
            problem = image_problem(image)
            if problem:
                yield (*c.path, "image"), f'image "{image}" of container "{c.name}" {problem}'


RULES = (
    Rule("SOPHIA-PSS-001", "Pods run as a non-root user", "set securityContext.runAsNonRoot: true on the pod",
         _pod_rule(_run_as_non_root)),
    Rule("SOPHIA-PSS-002", "Containers cannot gain privileges",
         "set securityContext.allowPrivilegeEscalation: false on every container", _pod_rule(_no_privilege_escalation)),
    Rule("SOPHIA-PSS-003", "Containers drop ALL capabilities and add at most NET_BIND_SERVICE",
         "set securityContext.capabilities: {drop: [ALL]} on every container", _pod_rule(_capabilities)),
    Rule("SOPHIA-PSS-004", "Pods use the RuntimeDefault or a Localhost seccomp profile",
         "set securityContext.seccompProfile.type: RuntimeDefault on the pod", _pod_rule(_seccomp)),
    Rule("SOPHIA-PSS-005", "Pods do not share the node's network, PID or IPC namespace",
         "remove hostNetwork, hostPID and hostIPC", _pod_rule(_host_namespaces)),
    Rule("SOPHIA-PSS-006", "Pods mount only restricted volume types (no hostPath)",
         "use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral or a persistentVolumeClaim",
         _pod_rule(_volume_types)),
    Rule("SOPHIA-PSS-007", "Containers are not privileged", "remove securityContext.privileged",
         _pod_rule(_privileged)),
    Rule("SOPHIA-PSS-008", "Containers do not bind host ports", "remove hostPort; expose the port through a Service",
         _pod_rule(_host_ports)),
    Rule("SOPHIA-RES-001", "Every container requests and limits cpu and memory",
         "set resources.requests and resources.limits for cpu and memory", _pod_rule(_resources)),
    Rule("SOPHIA-PROBE-001", "Every long-running container has liveness and readiness probes",
         "add livenessProbe and readinessProbe (Job and CronJob containers are exempt)", _pod_rule(_probes)),
    Rule("SOPHIA-IMG-001", "Images are pinned to a tag other than latest, or to a digest",
         "use image: repository:1.2.3 or repository@sha256:...", _pod_rule(_images)),
)
