"""Rules over pod templates: Pod Security Standards "restricted", resources, probes, image tags.

The SOPHIA-PSS rules are the checks of the standard (`pod_security`), grouped: the policy asks every
pod for "restricted", whatever its namespace says, and a rule may be waived for a reason. What the
API server itself refuses in a namespace that enforces a level is `admission`'s verdict, which no
waiver changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sophia.values import FieldPath

from .documents import Resource
from .pod_security import BY_ID
from .pod_templates import PodTemplate, containers, get, mapping, pod_template
from .rule import Check, Rule, per_resource

_NO_PROBES = {"Job", "CronJob"}

PodCheck = Callable[[Resource, PodTemplate], Iterable[tuple[FieldPath, str]]]


def _pod_rule(check: PodCheck) -> Check:
    def run(resource: Resource) -> Iterable[tuple[FieldPath, str]]:
        template = pod_template(resource)
        if template is not None:
            yield from check(resource, template)

    return per_resource(run)


def _standard(*ids: str) -> Check:
    """A rule made of checks of the Pod Security Standards, at the latest version, worded as the API server words them."""
    checks = tuple(BY_ID[i] for i in ids)

    def run(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
        for check in checks:
            for violation in check.violations(pod):
                yield violation.path, check.words(violation)

    return _pod_rule(run)


def _resources(_: Resource, pod: PodTemplate) -> Iterator[tuple[FieldPath, str]]:
    for c in containers(pod):
        if c.path[-2] == "ephemeralContainers":
            continue
        res = mapping(c.spec.get("resources"))
        missing = [
            f"{section}.{name}"
            for section in ("requests", "limits")
            for name in ("cpu", "memory")
            if get(res, section, name) in (None, "")
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


PSS_CHECKS: dict[str, tuple[str, ...]] = {
    "SOPHIA-PSS-001": ("runAsNonRoot", "runAsUser"),
    "SOPHIA-PSS-002": ("allowPrivilegeEscalation",),
    "SOPHIA-PSS-003": ("capabilities_restricted",),
    "SOPHIA-PSS-004": ("seccompProfile_restricted",),
    "SOPHIA-PSS-005": ("hostNamespaces",),
    "SOPHIA-PSS-006": ("restrictedVolumes",),
    "SOPHIA-PSS-007": ("privileged",),
    "SOPHIA-PSS-008": ("hostPorts",),
    "SOPHIA-PSS-009": ("appArmorProfile", "seLinuxOptions", "procMount", "sysctls", "windowsHostProcess"),
}
"""The Pod Security Standards checks each SOPHIA-PSS rule is made of (ids of `pod_security.CHECKS`)."""


RULES = (
    Rule("SOPHIA-PSS-001", "Pods run as a non-root user", "set securityContext.runAsNonRoot: true on the pod",
         _standard(*PSS_CHECKS["SOPHIA-PSS-001"])),
    Rule("SOPHIA-PSS-002", "Containers cannot gain privileges",
         "set securityContext.allowPrivilegeEscalation: false on every container", _standard(*PSS_CHECKS["SOPHIA-PSS-002"])),
    Rule("SOPHIA-PSS-003", "Containers drop ALL capabilities and add at most NET_BIND_SERVICE",
         "set securityContext.capabilities: {drop: [ALL]} on every container", _standard(*PSS_CHECKS["SOPHIA-PSS-003"])),
    Rule("SOPHIA-PSS-004", "Pods use the RuntimeDefault or a Localhost seccomp profile",
         "set securityContext.seccompProfile.type: RuntimeDefault on the pod", _standard(*PSS_CHECKS["SOPHIA-PSS-004"])),
    Rule("SOPHIA-PSS-005", "Pods do not share the node's network, PID or IPC namespace",
         "remove hostNetwork, hostPID and hostIPC", _standard(*PSS_CHECKS["SOPHIA-PSS-005"])),
    Rule("SOPHIA-PSS-006", "Pods mount only restricted volume types (no hostPath)",
         "use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or a persistentVolumeClaim",
         _standard(*PSS_CHECKS["SOPHIA-PSS-006"])),
    Rule("SOPHIA-PSS-007", "Containers are not privileged", "remove securityContext.privileged",
         _standard(*PSS_CHECKS["SOPHIA-PSS-007"])),
    Rule("SOPHIA-PSS-008", "Containers do not bind host ports", "remove hostPort; expose the port through a Service",
         _standard(*PSS_CHECKS["SOPHIA-PSS-008"])),
    Rule("SOPHIA-PSS-009", "Pods keep the default AppArmor, SELinux, /proc and sysctl protections and are no Windows host process",
         "leave appArmorProfile (or set RuntimeDefault), seLinuxOptions user/role/type, procMount, unsafe sysctls and "
         "windowsOptions.hostProcess out",
         _standard(*PSS_CHECKS["SOPHIA-PSS-009"])),
    Rule("SOPHIA-RES-001", "Every container requests and limits cpu and memory",
         "set resources.requests and resources.limits for cpu and memory", _pod_rule(_resources)),
    Rule("SOPHIA-PROBE-001", "Every long-running container has liveness and readiness probes",
         "add livenessProbe and readinessProbe (Job and CronJob containers are exempt)", _pod_rule(_probes)),
    Rule("SOPHIA-IMG-001", "Images are pinned to a tag other than latest, or to a digest",
         "use image: repository:1.2.3 or repository@sha256:...", _pod_rule(_images)),
)
