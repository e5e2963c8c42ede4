"""One container of a pod spec: name, image, ports, env, resources, volume mounts and probes.

As `validateContainerCommon`, `validateContainerPorts`, `ValidateEnv`, `ValidateResourceRequirements`,
`ValidateVolumeMounts` and the probe validation of Kubernetes 1.33 check them, after the API
server's defaulting (probe thresholds, HTTP scheme and path, port protocol, pull policy).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from sophia.values import FieldPath

from . import formats as f
from . import quantity
from .formats import Problem

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_STANDARD_RESOURCES = {"cpu", "memory", "ephemeral-storage"}
_FRACTION_WARNED = ("memory", "ephemeral-storage")
_ENV_FIELD_PATHS = (
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
    "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
)
_SUBSCRIPTED = re.compile(r"metadata\.(labels|annotations)\['[^']*'\]")


def container(ctr: dict[str, Any], path: FieldPath, volumes: set[str]) -> Iterator[Problem]:
    """What every container, regular or init, must satisfy."""
    name = ctr.get("name")
    if not isinstance(name, str) or not name:
        yield f.required((*path, "name"))
    else:
        yield from f.invalid_each((*path, "name"), name, f.is_dns1123_label(name))
    if not ctr.get("image"):
        yield f.required((*path, "image"))
    policy = ctr.get("imagePullPolicy")
    if policy is not None and policy not in _PULL_POLICIES:
        yield f.not_supported((*path, "imagePullPolicy"), policy, _PULL_POLICIES)
    yield from ports(ctr.get("ports"), (*path, "ports"))
    yield from env(ctr.get("env"), (*path, "env"))
    yield from resources(ctr.get("resources"), (*path, "resources"))
    yield from volume_mounts(ctr.get("volumeMounts"), (*path, "volumeMounts"), volumes)
    yield from seccomp(ctr.get("securityContext"), (*path, "securityContext"))


def probes(ctr: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = ctr.get(kind)
        if isinstance(probe, dict):
            yield from _probe(probe, (*path, kind), kind)


def _probe(probe: dict[str, Any], path: FieldPath, kind: str) -> Iterator[Problem]:
    given = [h for h in _HANDLERS if probe.get(h) is not None]
    if not given:
        yield f.required(path, "must specify a handler type")
    for extra in given[1:]:
        yield f.forbidden((*path, extra), "may not specify more than 1 handler type")
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        value = probe.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            yield f.invalid((*path, key), value, f.NEGATIVE)
    success = probe.get("successThreshold")
    if kind != "readinessProbe" and isinstance(success, int) and success not in (0, 1):
        yield f.invalid((*path, "successThreshold"), success, "must be 1")
    grace = probe.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and not isinstance(grace, bool):
        if kind == "readinessProbe":
            yield f.invalid((*path, "terminationGracePeriodSeconds"), grace, "must not be set for readinessProbes")
        elif grace <= 0:
            yield f.invalid((*path, "terminationGracePeriodSeconds"), grace, "must be greater than 0")
    if given:
        yield from _handler(given[0], probe[given[0]], (*path, given[0]))


def _handler(kind: str, handler: Any, path: FieldPath) -> Iterator[Problem]:
    if not isinstance(handler, dict):
        return
    if kind == "exec" and not handler.get("command"):
        yield f.required((*path, "command"))
    if kind in ("httpGet", "tcpSocket"):
        yield from f.port_num_or_name(handler.get("port"), (*path, "port"))
    if kind == "grpc" and isinstance(handler.get("port"), int):
        yield from f.invalid_each((*path, "port"), handler["port"], f.is_port_number(handler["port"]))
    if kind == "httpGet":
        scheme = handler.get("scheme")
        if scheme is not None and scheme not in ("HTTP", "HTTPS"):
            yield f.not_supported((*path, "scheme"), scheme, ("HTTP", "HTTPS"))
        headers = handler.get("httpHeaders")
        for header in headers if isinstance(headers, list) else []:
            name = header.get("name") if isinstance(header, dict) else None
            if isinstance(name, str) and not re.fullmatch("[-A-Za-z0-9]+", name):
                yield f.invalid((*path, "httpHeaders"), name, f.regex_error(
                    "a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+", "X-Header-Name"))


def ports(value: Any, path: FieldPath) -> Iterator[Problem]:
    """Names are IANA service names, unique within the container; numbers in range."""
    names: set[str] = set()
    for i, port in enumerate(f.sequence(value)):
        if not isinstance(port, dict):
            continue
        here = (*path, i)
        name = port.get("name")
        if isinstance(name, str) and name:
            errors = f.is_port_name(name)
            yield from f.invalid_each((*here, "name"), name, errors)
            if not errors and name in names:
                yield f.duplicate((*here, "name"), name)
            names.add(name)
        number = port.get("containerPort")
        if isinstance(number, int) and not isinstance(number, bool):
            if number == 0:
                yield f.required((*here, "containerPort"))
            else:
                yield from f.invalid_each((*here, "containerPort"), number, f.is_port_number(number))
        host = port.get("hostPort")
        if isinstance(host, int) and not isinstance(host, bool) and host != 0:
            yield from f.invalid_each((*here, "hostPort"), host, f.is_port_number(host))
        protocol = port.get("protocol")
        if protocol is not None and protocol not in _PROTOCOLS:
            yield f.not_supported((*here, "protocol"), protocol, _PROTOCOLS)


def env(value: Any, path: FieldPath) -> Iterator[Problem]:
    for i, item in enumerate(f.sequence(value)):
        if not isinstance(item, dict):
            continue
        here = (*path, i)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            yield f.required((*here, "name"))
        else:
            yield from f.invalid_each((*here, "name"), name, f.is_relaxed_env_name(name))
        source = item.get("valueFrom")
        if isinstance(source, dict):
            yield from _env_source(source, (*here, "valueFrom"), bool(item.get("value")))


def _env_source(source: dict[str, Any], path: FieldPath, has_value: bool) -> Iterator[Problem]:
    kinds = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef") if source.get(k) is not None]
    if not kinds:
        yield f.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")
    elif len(kinds) > 1:
        yield f.invalid(path, "", "may not have more than one field specified at a time")
    elif has_value:
        yield f.invalid(path, "", "may not be specified when `value` is not empty")
    for kind in ("configMapKeyRef", "secretKeyRef"):
        ref = source.get(kind)
        if not isinstance(ref, dict):
            continue
        key, name = ref.get("key"), ref.get("name")
        if not key:
            yield f.required((*path, kind, "key"))
        elif isinstance(key, str):
            yield from f.invalid_each((*path, kind, "key"), key, f.is_config_key(key))
        if not name:
            yield f.required((*path, kind, "name"))
        elif isinstance(name, str):
            yield from f.invalid_each((*path, kind, "name"), name, f.is_dns1123_subdomain(name))
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, dict):
        field_path = field_ref.get("fieldPath")
        if not field_path:
            yield f.required((*path, "fieldRef", "fieldPath"))
        elif field_path not in _ENV_FIELD_PATHS and not _SUBSCRIPTED.fullmatch(str(field_path)):
            yield f.not_supported((*path, "fieldRef", "fieldPath"), field_path, _ENV_FIELD_PATHS)


def resources(value: Any, path: FieldPath) -> Iterator[Problem]:
    """Names, quantities, whole extended resources, and requests within limits."""
    if not isinstance(value, dict):
        return
    parsed: dict[str, dict[str, quantity.Quantity]] = {"limits": {}, "requests": {}}
    for part in ("limits", "requests"):
        amounts = value.get(part)
        for name, raw in (amounts.items() if isinstance(amounts, dict) else []):
            here = (*path, part, str(name))
            yield from _resource_name(str(name), here)
            q = quantity.parse(raw)
            if q is None:
                yield f.invalid(here, raw, quantity.PARSE_ERROR)
                continue
            parsed[part][str(name)] = q
            if q.value < 0:
                yield f.invalid(here, str(q), f.NEGATIVE)
            elif is_extended(str(name)) and q.value.denominator != 1:
                yield f.invalid(here, f.Raw(str(q)), "must be an integer")
    limits = parsed["limits"]
    for name, request in parsed["requests"].items():
        limit = limits.get(name)
        if limit is None:
            if not _overcommit_allowed(name):
                yield f.required((*path, "limits"), "Limit must be set for non overcommitable resources")
        elif request.value != limit.value and not _overcommit_allowed(name):
            yield f.invalid((*path, "requests", name), str(request), f"must be equal to {name} limit of {limit}")
        elif request.value > limit.value:
            yield f.invalid((*path, "requests", name), str(request), f"must be less than or equal to {name} limit of {limit}")
    for part, amounts in parsed.items():
        for name in _FRACTION_WARNED:
            q = amounts.get(name)
            if q is not None and q.value.denominator != 1:
                yield f.warning((*path, part, name), f"fractional byte value {f.render(str(q))} is invalid, must be an integer")


def _resource_name(name: str, path: FieldPath) -> Iterator[Problem]:
    errors = f.is_qualified_name(name)
    yield from f.invalid_each(path, name, errors)
    if errors:
        return
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not name.startswith("hugepages-"):
            yield f.invalid(path, name, "must be a standard resource for containers")
    elif not _is_native(name) and not is_extended(name):
        yield f.invalid(path, name, "doesn't follow extended resource name standard")


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    """An extended resource (`nvidia.com/gpu`): whole numbers only, and requests equal to limits."""
    if _is_native(name) or name.startswith("requests."):
        return False
    return not f.is_qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native(name) and not name.startswith("hugepages-")


def volume_mounts(value: Any, path: FieldPath, volumes: set[str]) -> Iterator[Problem]:
    mount_paths: set[str] = set()
    for i, mount in enumerate(f.sequence(value)):
        if not isinstance(mount, dict):
            continue
        here = (*path, i)
        name = mount.get("name")
        if not name:
            yield f.required((*here, "name"))
        elif name not in volumes:
            yield f.not_found((*here, "name"), name)
        mount_path = mount.get("mountPath")
        if not mount_path:
            yield f.required((*here, "mountPath"))
        elif mount_path in mount_paths:
            yield f.invalid((*here, "mountPath"), mount_path, "must be unique")
        if isinstance(mount_path, str):
            mount_paths.add(mount_path)
        for key in ("subPath", "subPathExpr"):
            sub = mount.get(key)
            if isinstance(sub, str) and sub:
                yield from local_descending_path(sub, (*here, key))


def local_descending_path(value: str, path: FieldPath) -> Iterator[Problem]:
    if posixpath.isabs(value):
        yield f.invalid(path, value, "must be a relative path")
    if ".." in value.replace("\\", "/").split("/"):
        yield f.invalid(path, value, "must not contain '..'")


def seccomp(context: Any, path: FieldPath) -> Iterator[Problem]:
    """The seccomp profile of a pod or container security context."""
    profile = context.get("seccompProfile") if isinstance(context, dict) else None
    if not isinstance(profile, dict):
        return
    kind = profile.get("type")
    here = (*path, "seccompProfile")
    if kind not in ("Localhost", "RuntimeDefault", "Unconfined"):
        yield f.not_supported((*here, "type"), kind, ("Localhost", "RuntimeDefault", "Unconfined"))
    elif kind == "Localhost" and not profile.get("localhostProfile"):
        yield f.required((*here, "localhostProfile"), "must be set when seccomp type is Localhost")
    elif kind != "Localhost" and profile.get("localhostProfile") is not None:
        yield f.invalid((*here, "localhostProfile"), profile["localhostProfile"], "can only be set when seccomp type is Localhost")
