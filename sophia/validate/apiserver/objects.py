"""Objects around workloads: PodDisruptionBudget, HorizontalPodAutoscaler, PersistentVolumeClaim,
ConfigMap, Secret and RuntimeClass, as the 1.33 API server validates them on creation; and the
Namespace's PodSecurity labels, which the PodSecurity admission plugin refuses when invalid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sophia.values import FieldPath

from .. import pod_security
from . import formats as f
from . import meta, pods, quantity
from .formats import Problem

MAX_CONFIG_BYTES = 1024 * 1024
_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
_METRIC_FIELDS = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                  "ContainerResource": "containerResource"}


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def disruption_budget(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        yield f.invalid(("spec",), spec, "minAvailable and maxUnavailable cannot be both set")
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            yield from f.positive_int_or_percent(spec[key], ("spec", key))
    yield from meta.label_selector(spec.get("selector"), ("spec", "selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("AlwaysAllow", "IfHealthyBudget"):
        yield f.not_supported(("spec", "unhealthyPodEvictionPolicy"), policy, ("AlwaysAllow", "IfHealthyBudget"))


def autoscaler(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        yield f.invalid(("spec", "minReplicas"), low, "must be greater than or equal to 1")
    if isinstance(high, int):
        if high < 1:
            yield f.invalid(("spec", "maxReplicas"), high, "must be greater than 0")
        if isinstance(low, int) and high < low:
            yield f.invalid(("spec", "maxReplicas"), high, "must be greater than or equal to `minReplicas`")
    ref = f.mapping(spec.get("scaleTargetRef"))
    for key in ("kind", "name"):
        value = ref.get(key)
        if not value:
            yield f.required(("spec", "scaleTargetRef", key))
        elif isinstance(value, str):
            yield from f.invalid_each(("spec", "scaleTargetRef", key), value, f.is_path_segment_name(value))
    target = spec.get("targetCPUUtilizationPercentage")
    if isinstance(target, int) and target < 1:
        yield f.invalid(("spec", "targetCPUUtilizationPercentage"), target, "must be greater than 0")
    metrics = spec.get("metrics")
    for i, metric in enumerate(f.sequence(metrics)):
        if isinstance(metric, dict):
            yield from _metric(metric, ("spec", "metrics", i))


def _metric(metric: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    kind = metric.get("type")
    if not kind:
        yield f.required((*path, "type"), "must specify a metric source type")
    elif kind not in _METRIC_TYPES:
        yield f.not_supported((*path, "type"), kind, _METRIC_TYPES)
    expected = _METRIC_FIELDS.get(str(kind))
    present = [name for name in _METRIC_FIELDS.values() if metric.get(name) is not None]
    if expected is not None and expected not in present:
        yield f.required((*path, expected), "must populate information for the given metric source")
    for other in present:
        if other != expected and len(present) > 1:
            yield f.forbidden((*path, other), "must populate the given metric source only")
    source = metric.get(expected) if expected is not None else None
    if expected is None or not isinstance(source, dict):
        return
    target = f.mapping(source.get("target"))
    here = (*path, expected, "target")
    yield from _metric_target(target, here)
    if expected in ("resource", "containerResource"):
        if not source.get("name"):
            yield f.required((*path, expected, "name"), "must specify a resource name")
        utilization, average = target.get("averageUtilization"), target.get("averageValue")
        if utilization is None and average is None:
            yield f.required((*here, "averageUtilization"), "must set either a target raw value or a target utilization")
        if utilization is not None and average is not None:
            yield f.forbidden((*here, "averageValue"), "may not set both a target raw value and a target utilization")


def _metric_target(target: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    kind = target.get("type")
    if not kind:
        yield f.required((*path, "type"), "must specify a metric target type")
    if kind not in ("Utilization", "Value", "AverageValue"):
        yield f.invalid((*path, "type"), kind, "must be either Utilization, Value, or AverageValue")
    for key in ("value", "averageValue"):
        if target.get(key) is None:
            continue
        q = quantity.parse(target[key])
        if q is None:
            yield f.invalid((*path, key), target[key], quantity.PARSE_ERROR)
        elif q.value <= 0:
            yield f.invalid((*path, key), f.Raw(str(q)), "must be positive")
    utilization = target.get("averageUtilization")
    if isinstance(utilization, int) and utilization < 1:
        yield f.invalid((*path, "averageUtilization"), utilization, "must be greater than 0")


def claim(data: dict[str, Any]) -> Iterator[Problem]:
    yield from claim_spec(data.get("spec"), ("spec",))


def claim_spec(spec: Any, path: FieldPath) -> Iterator[Problem]:
    """A PersistentVolumeClaim's spec (also a StatefulSet's claim templates)."""
    if not isinstance(spec, dict):
        return
    modes = spec.get("accessModes")
    if not modes:
        yield f.required((*path, "accessModes"), "at least 1 access mode is required")
    for mode in modes if isinstance(modes, list) else []:
        if mode not in _ACCESS_MODES:
            yield f.not_supported((*path, "accessModes"), mode, _ACCESS_MODES)
    resources = f.mapping(spec.get("resources"))
    requests = f.mapping(resources.get("requests"))
    if "storage" not in requests and not spec.get("volumeName"):
        yield f.required((*path, "resources", "requests", "storage"))
    for part in ("requests", "limits"):
        amounts = resources.get(part)
        for name, raw in (amounts.items() if isinstance(amounts, dict) else []):
            here = (*path, "resources", part, str(name))
            q = quantity.parse(raw)
            if q is None:
                yield f.invalid(here, raw, quantity.PARSE_ERROR)
            elif name == "storage" and part == "requests" and q.value <= 0:
                yield f.invalid(here, str(q), "must be greater than zero")
            elif q.value < 0:
                yield f.invalid(here, str(q), f.NEGATIVE)
    storage_class = spec.get("storageClassName")
    if isinstance(storage_class, str) and storage_class:
        yield from f.invalid_each((*path, "storageClassName"), storage_class, f.is_dns1123_subdomain(storage_class))


def config(data: dict[str, Any]) -> Iterator[Problem]:
    """ConfigMap and Secret: every key a config key, no key twice, at most 1 MiB of data."""
    total = 0
    seen: dict[str, str] = {}
    for part in ("data", "binaryData", "stringData"):
        values = data.get(part)
        for key, value in (values.items() if isinstance(values, dict) else []):
            key = str(key)
            yield from f.invalid_each((part, key), key, f.is_config_key(key))
            if key in seen and {seen[key], part} != {"data", "stringData"}:
                yield f.invalid((part, key), key, f"duplicate of key present in {seen[key]}")
            seen.setdefault(key, part)
            total += len(key) + (len(value.encode()) if isinstance(value, str) else 0)
    if data.get("kind") == "ConfigMap" and total > MAX_CONFIG_BYTES:
        yield f.too_long((), MAX_CONFIG_BYTES)


def runtime_class(data: dict[str, Any]) -> Iterator[Problem]:
    handler = data.get("handler")
    if not handler:
        yield f.required(("handler",))
    elif isinstance(handler, str):
        yield from f.invalid_each(("handler",), handler, f.is_dns1123_label(handler))
    scheduling = f.mapping(data.get("scheduling"))
    yield from f.labels(scheduling.get("nodeSelector"), ("scheduling", "nodeSelector"))
    yield from pods.tolerations(scheduling.get("tolerations"), ("scheduling", "tolerations"))


def namespace(data: dict[str, Any]) -> Iterator[Problem]:
    """The PodSecurity labels (`pod-security.kubernetes.io/<mode>` and `<mode>-version`): a Namespace
    created with an invalid one is refused (`PolicyToEvaluate`, then `invalidResponse` on create)."""
    labels = f.mapping(f.mapping(data.get("metadata")).get("labels"))
    for mode in pod_security.MODES:
        key = pod_security.LABEL_PREFIX + mode
        if key in labels:
            problem = pod_security.level_problem(labels[key])
            if problem:
                yield f.invalid(("metadata", "labels", key), labels[key], problem)
        version = labels.get(f"{key}-version")
        if f"{key}-version" in labels and pod_security.parse_version(version) is None:
            yield f.invalid(("metadata", "labels", f"{key}-version"), version, pod_security.VERSION_PROBLEM)
