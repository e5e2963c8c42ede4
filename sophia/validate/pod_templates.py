"""Where a pod is described: the pod template of each built-in workload kind (or the Pod itself), and
its containers. Shared by the Pod Security Standards (`pod_security`), the policy's pod rules and the
rules across objects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sophia.values import FieldPath

from .documents import Resource

_TEMPLATE_PATHS: dict[tuple[str, str], FieldPath] = {
    ("", "Pod"): ("spec",),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("", "PodTemplate"): ("template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""The built-in kinds that describe pods, by (API group, kind): the same kinds PodSecurity admission reads."""
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class PodTemplate:
    path: FieldPath
    """Where the pod spec is (`spec.template.spec`)."""
    spec: dict[str, Any]
    labels: dict[str, Any]
    annotations: dict[str, Any]

    @property
    def metadata_path(self) -> FieldPath:
        return (*self.path[:-1], "metadata")

    @property
    def security(self) -> dict[str, Any]:
        """The pod's securityContext (empty when absent)."""
        return mapping(self.spec.get("securityContext"))


@dataclass(frozen=True)
class Container:
    path: FieldPath
    name: str
    spec: dict[str, Any]
    regular: bool
    """False for init and ephemeral containers."""

    @property
    def security(self) -> dict[str, Any]:
        return mapping(self.spec.get("securityContext"))

    @property
    def security_path(self) -> FieldPath:
        return (*self.path, "securityContext")


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def get(value: Any, *keys: str | int) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def pod_template(resource: Resource) -> PodTemplate | None:
    """The pod template of a built-in workload (or the Pod itself), or None for other kinds."""
    path = _TEMPLATE_PATHS.get((resource.api_version.rpartition("/")[0], resource.kind))
    if path is None:
        return None
    spec = get(resource.data, *path)
    if not isinstance(spec, dict):
        return None
    meta = mapping(get(resource.data, *path[:-1], "metadata"))
    return PodTemplate(path, spec, mapping(meta.get("labels")), mapping(meta.get("annotations")))


def containers(template: PodTemplate) -> Iterator[Container]:
    """Every container of the pod: init, regular and ephemeral."""
    for list_name in CONTAINER_LISTS:
        items = template.spec.get(list_name)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, dict):
                name = item.get("name")
                yield Container((*template.path, list_name, i), str(name or f"#{i}"), item, list_name == "containers")
