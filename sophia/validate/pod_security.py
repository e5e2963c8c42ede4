"""The Pod Security Standards of Kubernetes 1.33, one definition of each check.

Each check follows `k8s.io/pod-security-admission/policy` (`check_*.go`) of Kubernetes 1.33: its id,
the lowest level that applies it, the reason the API server gives (`runAsNonRoot != true`) and the
detail, worded the same way, for every field that breaks it (so that each finding has a line). A
restricted check that replaces a baseline one (`restrictedVolumes` replaces `hostPathVolumes`) says
so. Two readers use them: the PodSecurity admission verdict (`admission`), at the level each
namespace's labels set, and the policy rules `SOPHIA-PSS-*` (`rules_pods`), which ask every pod for
"restricted" whatever its namespace.

Versions. A namespace may pin the version of the standard (`enforce-version: v1.30`); the checks
differ between versions only in the allowed sysctls (1.27, 1.29, 1.32), the allowed SELinux types
(1.31) and the exemption of Windows pods from three restricted checks (1.25). Versions before 1.25
differ in more ways (seccomp annotations, checks not yet there) and are not evaluated: sophia
never writes them. Not modelled: the relaxations behind the alpha feature gate
UserNamespacesPodSecurityStandards (off by default in 1.33), and exemptions of the cluster's
AdmissionConfiguration (none on k3s by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sophia.values import FieldPath

from .pod_templates import Container, PodTemplate, containers, get, mapping
from .settings import KUBERNETES_VERSION

LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
LEVELS = ("privileged", "baseline", "restricted")
LATEST = int(KUBERNETES_VERSION.split(".")[1])
"""The minor version `latest` means (and any later version: the API server treats it as its own)."""
OLDEST_EVALUATED = 25
_VERSION = re.compile(r"^v1\.(0|[1-9][0-9]*)$")


def level_problem(value: object) -> str | None:
    """Why the API server refuses `value` as a level label, or None (`api.ParseLevel`)."""
    return None if value in LEVELS else f"must be one of {', '.join(LEVELS)}"


def parse_version(value: object) -> int | None:
    """The minor version a `-version` label names (`latest` and later versions: `LATEST`), or None when invalid."""
    if value == "latest":
        return LATEST
    match = _VERSION.match(value) if isinstance(value, str) else None
    return None if match is None else min(int(match.group(1)), LATEST)


VERSION_PROBLEM = 'must be "latest" or "v1.x"'


@dataclass(frozen=True)
class Violation:
    """One field of a pod that breaks a check, and the API server's words for it."""

    path: FieldPath
    detail: str


Find = Callable[[PodTemplate, int], Iterable[Violation]]


@dataclass(frozen=True)
class StandardCheck:
    id: str
    """The check's id in pod-security-admission (`runAsNonRoot`)."""
    level: str
    """The lowest level that applies it: baseline or restricted."""
    reason: str
    """What the API server names the broken rule (`runAsNonRoot != true`)."""
    find: Find
    replaces: str = ""
    """The id of the baseline check this restricted one replaces at the restricted level."""
    since: int = 0
    """The first version of the standard that has it."""

    def violations(self, pod: PodTemplate, version: int = LATEST) -> Iterator[Violation]:
        if version >= self.since:
            yield from self.find(pod, version)

    def words(self, violation: Violation) -> str:
        """The API server's wording: `runAsNonRoot != true (container "api" must ...)`."""
        return f"{self.reason} ({violation.detail})"


def _q(value: object) -> str:
    """A value as Go's %q writes it."""
    return json.dumps(str(value))


def _windows(pod: PodTemplate, version: int) -> bool:
    """A Windows pod, exempt from the Linux-only restricted checks since 1.25."""
    return version >= 25 and get(pod.spec, "os", "name") == "windows"


def _setters(pod: PodTemplate) -> Iterator[tuple[str, FieldPath, dict[str, object]]]:
    """The pod and each container, with where their securityContext is and what it holds."""
    yield "pod", (*pod.path, "securityContext"), pod.security
    for c in containers(pod):
        yield f"container {_q(c.name)}", c.security_path, c.security


# --- baseline -------------------------------------------------------------------------------------


def _host_namespaces(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.spec.get(key) is True:
            yield Violation((*pod.path, key), f"{key}=true")


def _privileged(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for c in containers(pod):
        if c.security.get("privileged") is True:
            yield Violation((*c.security_path, "privileged"), f"container {_q(c.name)} must not set securityContext.privileged=true")


_BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
    "SETPCAP", "SETUID", "SYS_CHROOT",
})
_RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def _added(c: Container, allowed: frozenset[str]) -> Iterator[Violation]:
    add = get(c.security, "capabilities", "add")
    extra = sorted({str(a) for a in add if a not in allowed}) if isinstance(add, list) else []
    if extra:
        yield Violation((*c.security_path, "capabilities", "add"),
                        f"container {_q(c.name)} must not include {', '.join(map(_q, extra))} in securityContext.capabilities.add")


def _capabilities_baseline(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for c in containers(pod):
        yield from _added(c, _BASELINE_CAPABILITIES)


def _host_path_volumes(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for i, volume in _volumes(pod):
        if "hostPath" in volume:
            yield Violation((*pod.path, "volumes", i, "hostPath"), f"volume {_q(volume.get('name', i))}")


def _volumes(pod: PodTemplate) -> Iterator[tuple[int, dict[str, object]]]:
    volumes = pod.spec.get("volumes")
    for i, volume in enumerate(volumes if isinstance(volumes, list) else []):
        if isinstance(volume, dict):
            yield i, volume


def _host_ports(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for c in containers(pod):
        ports = c.spec.get("ports")
        for i, port in enumerate(ports if isinstance(ports, list) else []):
            if isinstance(port, dict) and port.get("hostPort"):
                yield Violation((*c.path, "ports", i, "hostPort"), f"container {_q(c.name)} uses hostPort {port['hostPort']}")


_APPARMOR_TYPES = ("RuntimeDefault", "Localhost")
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _app_armor(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for who, path, security in _setters(pod):
        profile = security.get("appArmorProfile")
        if isinstance(profile, dict) and profile.get("type") not in _APPARMOR_TYPES:
            yield Violation((*path, "appArmorProfile", "type"),
                            f"{who} must not set AppArmor profile type to {_q(profile.get('type'))}")
    for key, value in sorted(pod.annotations.items(), key=lambda kv: str(kv[0])):
        if str(key).startswith(_APPARMOR_ANNOTATION) and value and value != "runtime/default" \
                and not str(value).startswith("localhost/"):
            yield Violation((*pod.metadata_path, "annotations", key),
                            f"annotation must not set AppArmor profile type to {_q(f'{key}={_q(value)}')}")


def _selinux_types(version: int) -> frozenset[str]:
    return frozenset({"", "container_t", "container_init_t", "container_kvm_t"}
                     | ({"container_engine_t"} if version >= 31 else set()))


def _selinux(pod: PodTemplate, version: int) -> Iterator[Violation]:
    allowed = _selinux_types(version)
    for who, path, security in _setters(pod):
        options = mapping(security.get("seLinuxOptions"))
        here = (*path, "seLinuxOptions")
        selinux_type = options.get("type") or ""
        if selinux_type not in allowed:
            yield Violation((*here, "type"), f"{who} set forbidden securityContext.seLinuxOptions: type {_q(selinux_type)}")
        for key in ("user", "role"):
            if options.get(key):
                yield Violation((*here, key), f"{who} set forbidden securityContext.seLinuxOptions: {key} may not be set")


def _proc_mount(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for c in containers(pod):
        value = c.security.get("procMount")
        if value is not None and value != "Default":
            yield Violation((*c.security_path, "procMount"),
                            f"container {_q(c.name)} must not set securityContext.procMount to {_q(value)}")


_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")


def _seccomp_baseline(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for who, path, security in _setters(pod):
        if get(security, "seccompProfile", "type") == "Unconfined":
            yield Violation((*path, "seccompProfile", "type"),
                            f'{who} must not set securityContext.seccompProfile.type to "Unconfined"')


_SYSCTLS = (
    (0, ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
         "net.ipv4.ip_unprivileged_port_start")),
    (27, ("net.ipv4.ip_local_reserved_ports",)),
    (29, ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
          "net.ipv4.tcp_keepalive_probes")),
    (32, ("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")),
)
"""The safe sysctls, by the version that allowed them."""


def _sysctls(pod: PodTemplate, version: int) -> Iterator[Violation]:
    allowed = {name for since, names in _SYSCTLS if version >= since for name in names}
    items = pod.security.get("sysctls")
    for i, item in enumerate(items if isinstance(items, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name not in allowed:
            yield Violation((*pod.path, "securityContext", "sysctls", i, "name"), name)


def _host_process(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for who, path, security in _setters(pod):
        if get(security, "windowsOptions", "hostProcess") is True:
            yield Violation((*path, "windowsOptions", "hostProcess"),
                            f"{who} must not set securityContext.windowsOptions.hostProcess=true")


# --- restricted -----------------------------------------------------------------------------------

_RESTRICTED_VOLUMES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret",
})
"""The volume types allowed at the restricted level (`image` since 1.33: kubernetes/kubernetes#130394)."""


def _restricted_volumes(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for i, volume in _volumes(pod):
        sources = set(map(str, volume)) - {"name"}
        if sources & _RESTRICTED_VOLUMES:
            continue
        for source in sorted(sources) or ["unknown"]:
            yield Violation((*pod.path, "volumes", i, source),
                            f"volume {_q(volume.get('name', i))} uses restricted volume type {_q(source)}")


def _allow_privilege_escalation(pod: PodTemplate, version: int) -> Iterator[Violation]:
    if _windows(pod, version):
        return
    for c in containers(pod):
        if c.security.get("allowPrivilegeEscalation") is not False:
            yield Violation((*c.security_path, "allowPrivilegeEscalation"),
                            f"container {_q(c.name)} must set securityContext.allowPrivilegeEscalation=false")


def _run_as_non_root(pod: PodTemplate, _: int) -> Iterator[Violation]:
    pod_value = pod.security.get("runAsNonRoot")
    if pod_value is False:
        yield Violation((*pod.path, "securityContext", "runAsNonRoot"), "pod must not set securityContext.runAsNonRoot=false")
    for c in containers(pod):
        value = c.security.get("runAsNonRoot")
        if value is False:
            yield Violation((*c.security_path, "runAsNonRoot"),
                            f"container {_q(c.name)} must not set securityContext.runAsNonRoot=false")
        elif value is None and pod_value is not True:
            yield Violation((*c.security_path, "runAsNonRoot"),
                            f"pod or container {_q(c.name)} must set securityContext.runAsNonRoot=true")


def _run_as_user(pod: PodTemplate, _: int) -> Iterator[Violation]:
    for who, path, security in _setters(pod):
        value = security.get("runAsUser")
        if value == 0 and not isinstance(value, bool):
            yield Violation((*path, "runAsUser"), f"{who} must not set runAsUser=0")


def _seccomp_restricted(pod: PodTemplate, version: int) -> Iterator[Violation]:
    if _windows(pod, version):
        return
    pod_type = get(pod.security, "seccompProfile", "type")
    if pod_type is not None and pod_type not in _SECCOMP_TYPES:
        yield Violation((*pod.path, "securityContext", "seccompProfile", "type"),
                        f"pod must not set securityContext.seccompProfile.type to {_q(pod_type)}")
    for c in containers(pod):
        own = get(c.security, "seccompProfile", "type")
        if own is not None and own not in _SECCOMP_TYPES:
            yield Violation((*c.security_path, "seccompProfile", "type"),
                            f"container {_q(c.name)} must not set securityContext.seccompProfile.type to {_q(own)}")
        elif own is None and pod_type not in _SECCOMP_TYPES:
            yield Violation((*c.security_path, "seccompProfile"),
                            f'pod or container {_q(c.name)} must set securityContext.seccompProfile.type to '
                            '"RuntimeDefault" or "Localhost"')


def _capabilities_restricted(pod: PodTemplate, version: int) -> Iterator[Violation]:
    if _windows(pod, version):
        return
    for c in containers(pod):
        drop = get(c.security, "capabilities", "drop")
        if not isinstance(drop, list) or "ALL" not in drop:
            yield Violation((*c.security_path, "capabilities", "drop"),
                            f'container {_q(c.name)} must set securityContext.capabilities.drop=["ALL"]')
        yield from _added(c, _RESTRICTED_CAPABILITIES)


CHECKS = (
    StandardCheck("hostNamespaces", "baseline", "host namespaces", _host_namespaces),
    StandardCheck("privileged", "baseline", "privileged", _privileged),
    StandardCheck("capabilities_baseline", "baseline", "non-default capabilities", _capabilities_baseline),
    StandardCheck("hostPathVolumes", "baseline", "hostPath volumes", _host_path_volumes),
    StandardCheck("hostPorts", "baseline", "hostPort", _host_ports),
    StandardCheck("appArmorProfile", "baseline", "forbidden AppArmor profile", _app_armor),
    StandardCheck("seLinuxOptions", "baseline", "seLinuxOptions", _selinux),
    StandardCheck("procMount", "baseline", "procMount", _proc_mount),
    StandardCheck("seccompProfile_baseline", "baseline", "seccompProfile", _seccomp_baseline),
    StandardCheck("sysctls", "baseline", "forbidden sysctls", _sysctls),
    StandardCheck("windowsHostProcess", "baseline", "hostProcess", _host_process),
    StandardCheck("restrictedVolumes", "restricted", "restricted volume types", _restricted_volumes,
                  replaces="hostPathVolumes"),
    StandardCheck("allowPrivilegeEscalation", "restricted", "allowPrivilegeEscalation != false", _allow_privilege_escalation),
    StandardCheck("runAsNonRoot", "restricted", "runAsNonRoot != true", _run_as_non_root),
    StandardCheck("runAsUser", "restricted", "runAsUser=0", _run_as_user, since=23),
    StandardCheck("seccompProfile_restricted", "restricted", "seccompProfile", _seccomp_restricted,
                  replaces="seccompProfile_baseline", since=19),
    StandardCheck("capabilities_restricted", "restricted", "unrestricted capabilities", _capabilities_restricted,
                  replaces="capabilities_baseline", since=22),
)
BY_ID = {check.id: check for check in CHECKS}


def checks_of(level: str, version: int = LATEST) -> tuple[StandardCheck, ...]:
    """The checks a level applies at a version: its own and the lower levels', less those replaced."""
    if level not in LEVELS[1:] or version < OLDEST_EVALUATED:
        return ()
    rank = LEVELS.index(level)
    chosen = [c for c in CHECKS if LEVELS.index(c.level) <= rank and version >= c.since]
    replaced = {c.replaces for c in chosen}
    return tuple(c for c in chosen if c.id not in replaced)


def violations(pod: PodTemplate, level: str, version: int = LATEST) -> Iterator[tuple[StandardCheck, Violation]]:
    """Every violation of a level of the standard by one pod, check by check."""
    for check in checks_of(level, version):
        for violation in check.violations(pod, version):
            yield check, violation
