"""Pod templates and pod specs: `ValidatePodTemplateSpec` and `ValidatePodSpec` of Kubernetes 1.33,
and the warnings the API server gives for pod templates (`GetWarningsForPodTemplate`).

`restart_policies` is what the owning kind allows (Deployments `Always`, Jobs `OnFailure` or
`Never`, ...); `claims` are volumes a StatefulSet adds to its pods from its claim templates.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any

from sophia.values import FieldPath, dotted

from . import containers as c
from . import formats as f
from . import meta, quantity
from .formats import Problem

_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)
_DEPRECATED_VOLUMES = {
    "gitRepo": "deprecated in v1.11", "photonPersistentDisk": "deprecated in v1.11, non-functional in v1.16+",
    "scaleIO": "deprecated in v1.16, non-functional in v1.22+", "flocker": "deprecated in v1.22, non-functional in v1.25+",
    "storageos": "deprecated in v1.22, non-functional in v1.25+", "quobyte": "deprecated in v1.22, non-functional in v1.25+",
    "glusterfs": "deprecated in v1.25, non-functional in v1.26+", "cephfs": "deprecated in v1.28, non-functional in v1.31+",
    "rbd": "deprecated in v1.28, non-functional in v1.31+",
}
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
_NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def template(value: Any, path: FieldPath, restart_policies: Sequence[str], claims: Sequence[str] = ()) -> Iterator[Problem]:
    """A pod template: its labels and annotations, its spec, and the pod-template warnings."""
    if not isinstance(value, dict):
        return
    metadata = f.mapping(value.get("metadata"))
    yield from f.labels(metadata.get("labels"), (*path, "metadata", "labels"))
    yield from meta.annotation_problems(metadata.get("annotations"), (*path, "metadata", "annotations"))
    spec = value.get("spec")
    if isinstance(spec, dict):
        yield from pod_spec(spec, (*path, "spec"), restart_policies, claims)
        yield from warnings(spec, (*path, "spec"))


def pod_spec(spec: dict[str, Any], path: FieldPath, restart_policies: Sequence[str], claims: Sequence[str] = ()) -> Iterator[Problem]:
    names = yield from volumes(spec.get("volumes"), (*path, "volumes"))
    names |= set(claims)
    regular = f.sequence(spec.get("containers"))
    if not regular:
        yield f.required((*path, "containers"))
    seen: set[str] = set()
    for i, ctr in enumerate(regular):
        if not isinstance(ctr, dict):
            continue
        here = (*path, "containers", i)
        yield from c.container(ctr, here, names)
        yield from c.probes(ctr, here)
        yield from _unique_name(ctr, here, seen)
        if ctr.get("restartPolicy") is not None:
            yield f.forbidden((*here, "restartPolicy"), "may not be set for non-init containers")
    init = f.sequence(spec.get("initContainers"))
    for i, ctr in enumerate(init):
        if isinstance(ctr, dict):
            yield from _init_container(ctr, (*path, "initContainers", i), names, seen)
    yield from _host_ports(regular, (*path, "containers"))
    yield from _restart_policy(spec.get("restartPolicy", "Always"), (*path, "restartPolicy"), restart_policies)
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in _DNS_POLICIES:
        yield f.not_supported((*path, "dnsPolicy"), dns, _DNS_POLICIES)
    yield from f.labels(spec.get("nodeSelector"), (*path, "nodeSelector"))
    yield from _names(spec, path)
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not isinstance(deadline, bool) and not 1 <= deadline <= 2**31 - 1:
        yield f.invalid((*path, "activeDeadlineSeconds"), deadline, f.inclusive_range_error(1, 2**31 - 1))
    yield from c.seccomp(spec.get("securityContext"), (*path, "securityContext"))
    yield from _affinity(spec.get("affinity"), (*path, "affinity"))
    yield from tolerations(spec.get("tolerations"), (*path, "tolerations"))
    yield from _topology_spread(spec.get("topologySpreadConstraints"), (*path, "topologySpreadConstraints"))


def _unique_name(ctr: dict[str, Any], path: FieldPath, seen: set[str]) -> Iterator[Problem]:
    name = ctr.get("name")
    if isinstance(name, str) and name:
        if name in seen:
            yield f.duplicate((*path, "name"), name)
        seen.add(name)


def _init_container(ctr: dict[str, Any], path: FieldPath, volumes: set[str], seen: set[str]) -> Iterator[Problem]:
    yield from c.container(ctr, path, volumes)
    yield from _unique_name(ctr, path, seen)
    yield from _host_ports([ctr], path[:-1])
    policy = ctr.get("restartPolicy")
    if policy is not None and policy != "Always":
        yield f.not_supported((*path, "restartPolicy"), policy, ("Always",))
    if policy == "Always":
        yield from c.probes(ctr, path)
        return
    for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
        if ctr.get(key) is not None:
            yield f.forbidden((*path, key), "may not be set for init containers without restartPolicy=Always")


def _host_ports(ctrs: list[Any], path: FieldPath) -> Iterator[Problem]:
    taken: set[str] = set()
    for i, ctr in enumerate(ctrs):
        ports = ctr.get("ports") if isinstance(ctr, dict) else None
        for j, port in enumerate(f.sequence(ports)):
            host = port.get("hostPort") if isinstance(port, dict) else None
            if not host:
                continue
            key = f"{port.get('hostIP', '')}/{port.get('protocol', 'TCP')}/{host}"
            if key in taken:
                yield f.duplicate((*path, i, "ports", j, "hostPort"), key)
            taken.add(key)


def _restart_policy(policy: Any, path: FieldPath, allowed: Sequence[str]) -> Iterator[Problem]:
    if policy not in _RESTART_POLICIES:
        yield f.not_supported(path, policy, _RESTART_POLICIES)
    elif policy not in allowed:
        if policy == "Always" and "Always" not in allowed:
            yield f.required(path, "valid values: " + ", ".join(f'"{p}"' for p in allowed))
        else:
            yield f.not_supported(path, policy, allowed)


def _names(spec: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    checks = (
        ("serviceAccountName", f.is_dns1123_subdomain), ("priorityClassName", f.is_dns1123_subdomain),
        ("runtimeClassName", f.is_dns1123_subdomain), ("hostname", f.is_dns1123_label), ("subdomain", f.is_dns1123_label),
    )
    for key, rule in checks:
        value = spec.get(key)
        if isinstance(value, str) and value:
            yield from f.invalid_each((*path, key), value, rule(value))


def volumes(value: Any, path: FieldPath) -> Generator[Problem, None, set[str]]:
    """Every volume: a DNS-1123 label name, unique, exactly one source. Returns the names."""
    names: set[str] = set()
    for i, volume in enumerate(f.sequence(value)):
        if not isinstance(volume, dict):
            continue
        here = (*path, i)
        name = volume.get("name")
        errors = f.is_dns1123_label(name) if isinstance(name, str) and name else []
        if not name:
            yield f.required((*here, "name"))
        yield from f.invalid_each((*here, "name"), name, errors)
        if isinstance(name, str) and name in names:
            yield f.duplicate((*here, "name"), name)
        sources = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
        if not sources:
            yield f.required(here, "must specify a volume type")
        for extra in sources[1:]:
            yield f.forbidden((*here, extra), "may not specify more than 1 volume type")
        if sources:
            yield from _volume_source(sources[0], volume[sources[0]], (*here, sources[0]))
        if isinstance(name, str) and name and not errors and name not in names and len(sources) == 1:
            names.add(name)
    return names


def _volume_source(kind: str, source: Any, path: FieldPath) -> Iterator[Problem]:
    if not isinstance(source, dict):
        return
    required = {"secret": "secretName", "configMap": "name", "persistentVolumeClaim": "claimName"}.get(kind)
    if required is not None and not source.get(required):
        yield f.required((*path, required))
    mode = source.get("defaultMode")
    if isinstance(mode, int) and not isinstance(mode, bool) and not 0 <= mode <= 0o777:
        yield f.invalid((*path, "defaultMode"), mode, _FILE_MODE_ERROR)
    items = source.get("items")
    for i, item in enumerate(f.sequence(items)):
        if isinstance(item, dict):
            if isinstance(item.get("key"), str) and not item["key"]:
                yield f.required((*path, "items", i, "key"))
            if isinstance(item.get("path"), str):
                yield from c.local_descending_path(item["path"], (*path, "items", i, "path"))
    if kind == "emptyDir" and "sizeLimit" in source and source["sizeLimit"] is not None:
        size = quantity.parse(source["sizeLimit"])
        if size is None:
            yield f.invalid((*path, "sizeLimit"), source["sizeLimit"], quantity.PARSE_ERROR)
        elif size.value < 0:
            yield f.forbidden((*path, "sizeLimit"), "SizeLimit field must be a valid resource quantity")


def _affinity(value: Any, path: FieldPath) -> Iterator[Problem]:
    if not isinstance(value, dict):
        return
    node = f.mapping(value.get("nodeAffinity"))
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if isinstance(required, dict):
        here = (*path, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        terms = f.sequence(required.get("nodeSelectorTerms"))
        if not terms:
            yield f.required(here, "must have at least one node selector term")
        for i, term in enumerate(terms):
            yield from _node_selector_term(term, (*here, i))
    preferred = node.get("preferredDuringSchedulingIgnoredDuringExecution")
    for i, item in enumerate(f.sequence(preferred)):
        if not isinstance(item, dict):
            continue
        here = (*path, "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution", i)
        weight = item.get("weight")
        if isinstance(weight, int) and not 1 <= weight <= 100:
            yield f.invalid((*here, "weight"), weight, "must be in the range 1-100")
        yield from _node_selector_term(item.get("preference"), (*here, "preference"))
    for kind in ("podAffinity", "podAntiAffinity"):
        pods = f.mapping(value.get(kind))
        for i, term in enumerate(f.sequence(pods.get("requiredDuringSchedulingIgnoredDuringExecution"))):
            if isinstance(term, dict):
                yield from _pod_affinity_term(term, (*path, kind, "requiredDuringSchedulingIgnoredDuringExecution", i))


def _node_selector_term(term: Any, path: FieldPath) -> Iterator[Problem]:
    expressions = term.get("matchExpressions") if isinstance(term, dict) else None
    for i, requirement in enumerate(f.sequence(expressions)):
        if not isinstance(requirement, dict):
            continue
        here = (*path, "matchExpressions", i)
        operator = requirement.get("operator")
        values = f.sequence(requirement.get("values"))
        if operator in ("In", "NotIn") and not values:
            yield f.required((*here, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist") and values:
            yield f.forbidden((*here, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        elif operator in ("Gt", "Lt") and len(values) != 1:
            yield f.required((*here, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")
        elif operator not in _NODE_OPERATORS:
            yield f.invalid((*here, "operator"), operator, "not a valid selector operator")
        if isinstance(requirement.get("key"), str):
            yield from f.invalid_each((*here, "key"), requirement["key"], f.is_qualified_name(requirement["key"]))


def _pod_affinity_term(term: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    yield from meta.label_selector(term.get("labelSelector"), (*path, "labelSelector"))
    key = term.get("topologyKey")
    if not key:
        yield f.required((*path, "topologyKey"), "can not be empty")
    elif isinstance(key, str):
        yield from f.invalid_each((*path, "topologyKey"), key, f.is_qualified_name(key))


def tolerations(value: Any, path: FieldPath) -> Iterator[Problem]:
    for i, toleration in enumerate(f.sequence(value)):
        if not isinstance(toleration, dict):
            continue
        here = (*path, i)
        key, operator, effect = toleration.get("key") or "", toleration.get("operator") or "", toleration.get("effect") or ""
        if key:
            yield from f.invalid_each((*here, "key"), key, f.is_qualified_name(str(key)))
        elif operator != "Exists":
            yield f.invalid((*here, "operator"), operator,
                            'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            yield f.invalid((*here, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        tolerated = toleration.get("value") or ""
        if operator in ("Equal", ""):
            errors = f.is_label_value(str(tolerated))
            if errors:
                yield f.invalid((*here, "operator"), tolerated, ";".join(errors))
        elif operator == "Exists":
            if tolerated:
                yield f.invalid((*here, "operator"), toleration, "value must be empty when `operator` is 'Exists'")
        else:
            yield f.not_supported((*here, "operator"), operator, ("Equal", "Exists"))
        if effect and effect not in _TAINT_EFFECTS:
            yield f.not_supported((*here, "effect"), effect, _TAINT_EFFECTS)


def _topology_spread(value: Any, path: FieldPath) -> Iterator[Problem]:
    for i, constraint in enumerate(f.sequence(value)):
        if not isinstance(constraint, dict):
            continue
        here = (*path, i)
        skew = constraint.get("maxSkew")
        if isinstance(skew, int) and skew <= 0:
            yield f.invalid((*here, "maxSkew"), skew, "must be greater than zero")
        key = constraint.get("topologyKey")
        if not key:
            yield f.required((*here, "topologyKey"), "can not be empty")
        when = constraint.get("whenUnsatisfiable")
        if when not in ("DoNotSchedule", "ScheduleAnyway"):
            yield f.not_supported((*here, "whenUnsatisfiable"), when, ("DoNotSchedule", "ScheduleAnyway"))
        yield from meta.label_selector(constraint.get("labelSelector"), (*here, "labelSelector"))


def warnings(spec: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    """`warningsForPodSpecAndMeta`: what the API server accepts but warns about."""
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and not isinstance(grace, bool) and grace < 0:
        yield f.warning((*path, "terminationGracePeriodSeconds"), "must be >= 0; negative values are invalid and will be treated as 1")
    for i, volume in enumerate(f.sequence(spec.get("volumes"))):
        for kind, note in _DEPRECATED_VOLUMES.items():
            if isinstance(volume, dict) and volume.get(kind) is not None:
                yield f.warning((*path, "volumes", i, kind), note)
    constraints = spec.get("topologySpreadConstraints")
    for i, constraint in enumerate(f.sequence(constraints)):
        if isinstance(constraint, dict) and constraint.get("labelSelector") is None:
            yield f.warning((*path, "topologySpreadConstraints", i, "labelSelector"), "a null labelSelector results in matching no pod")
    secrets = spec.get("imagePullSecrets")
    pulled: set[str] = set()
    for i, item in enumerate(f.sequence(secrets)):
        name = item.get("name") if isinstance(item, dict) else None
        if not name:
            yield f.warning((*path, "imagePullSecrets", i, "name"), f"invalid empty name {f.render(name or '')}")
        elif name in pulled:
            yield f.warning((*path, "imagePullSecrets", i, "name"), f"duplicate name {f.render(name)}")
        pulled.add(str(name))
    yield from _container_warnings(spec, path)


def _container_warnings(spec: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    ports: dict[str, FieldPath] = {}
    for kind in ("initContainers", "containers"):
        listed = spec.get(kind)
        for i, ctr in enumerate(f.sequence(listed)):
            if not isinstance(ctr, dict):
                continue
            here = (*path, kind, i)
            yield from _duplicate_env(ctr.get("env"), (*here, "env"))
            for j, port in enumerate(f.sequence(ctr.get("ports"))):
                if not isinstance(port, dict) or port.get("hostPort") or port.get("hostIP"):
                    continue
                key = f"{port.get('containerPort')}/{port.get('protocol', 'TCP')}"
                if key in ports:
                    yield f.warning((*here, "ports", j), f"duplicate port definition with {dotted(ports[key])}")
                else:
                    ports[key] = (*here, "ports", j)


def _duplicate_env(value: Any, path: FieldPath) -> Iterator[Problem]:
    names: set[str] = set()
    for i, item in enumerate(f.sequence(value)):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in names:
            ref = f"$({name})"
            text = item.get("value") or ""
            if item.get("valueFrom") is not None or text == ref or ref not in text:
                yield f.warning((*path, i), f"hides previous definition of {f.render(name)}, which may be dropped when using apply")
        names.add(name)
