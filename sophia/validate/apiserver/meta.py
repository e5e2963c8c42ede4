"""Object metadata (name by kind, namespace, labels, annotations, finalizers) and label selectors.

`ValidateObjectMeta` of Kubernetes 1.33 with each kind's name rule, the finalizer warning the API
server gives every object, the workload-name warning, and `ValidateLabelSelector` with the
selector semantics workloads use to check their pod templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sophia.values import FieldPath

from . import formats as f
from .formats import Problem

NameRule = Callable[[str], Sequence[str]]

_LABEL_KINDS = {"Namespace", "StatefulSet"}
"""Kinds whose names are DNS-1123 labels (StatefulSet names became labels in 1.27)."""
_DNS1035_KINDS = {"Service"}
_RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
_POD_NAMING_KINDS = {"Pod", "ReplicaSet", "Deployment", "Job", "CronJob", "ReplicationController"}
"""Kinds whose names become pod names and host names: a name that is not a DNS label is warned about."""
_STANDARD_FINALIZERS = {"kubernetes", "orphan", "foregroundDeletion"}

TOTAL_ANNOTATION_BYTES = 256 * 1024
FINALIZER_WARNING = (
    "prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"
)
NAME_WARNING = "this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended"


def name_rule(api_version: str, kind: str) -> NameRule:
    """The name rule of a kind: DNS-1123 subdomain unless the kind needs more (custom resources too)."""
    group = api_version.rpartition("/")[0]
    if group in ("", "apps") and kind in _LABEL_KINDS:
        return f.is_dns1123_label
    if group == "" and kind in _DNS1035_KINDS:
        return f.is_dns1035_label
    if group == "rbac.authorization.k8s.io" and kind in _RBAC_KINDS:
        return f.is_path_segment_name
    return f.is_dns1123_subdomain


def object_meta(meta: Any, api_version: str, kind: str, path: FieldPath = ("metadata",)) -> Iterator[Problem]:
    """`ValidateObjectMeta` on creation: name, namespace, labels, annotations, finalizers."""
    if not isinstance(meta, dict):
        return
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        if not meta.get("generateName"):
            yield f.required((*path, "name"), "name or generateName is required")
    else:
        yield from f.invalid_each((*path, "name"), name, name_rule(api_version, kind)(name))
        yield from _kind_name_limits(api_version, kind, name, path)
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace:
        yield from f.invalid_each((*path, "namespace"), namespace, f.is_dns1123_label(namespace))
    yield from f.labels(meta.get("labels"), (*path, "labels"))
    yield from annotation_problems(meta.get("annotations"), (*path, "annotations"))
    yield from finalizers(meta.get("finalizers"), (*path, "finalizers"))


def _kind_name_limits(api_version: str, kind: str, name: str, path: FieldPath) -> Iterator[Problem]:
    group = api_version.rpartition("/")[0]
    if group == "batch" and kind == "CronJob" and len(name) > 52:
        # the controller names each Job `<cronjob>-<minutes since epoch>` (11 characters more)
        yield f.invalid((*path, "name"), name, "must be no more than 52 characters")
    if group in ("", "apps", "batch") and kind in _POD_NAMING_KINDS:
        label_errors = f.is_dns1123_label(name)
        if label_errors:
            yield f.warning((*path, "name"), f"{NAME_WARNING}: [{' '.join(label_errors)}]")


def annotation_problems(value: Any, path: FieldPath) -> Iterator[Problem]:
    """Keys are qualified names (any case); keys and values together at most 256 KiB."""
    if not isinstance(value, dict):
        return
    total = 0
    for key, item in value.items():
        key = str(key)
        yield from f.invalid_each(path, key, f.is_qualified_name(key.lower()))
        total += len(key.encode()) + (len(item.encode()) if isinstance(item, str) else 0)
    if total > TOTAL_ANNOTATION_BYTES:
        yield f.too_long(path, TOTAL_ANNOTATION_BYTES)


def finalizers(value: Any, path: FieldPath) -> Iterator[Problem]:
    """Qualified names; one without a `/` that is not Kubernetes' own gets the API server's warning."""
    if not isinstance(value, list):
        return
    for i, item in enumerate(value):
        if not isinstance(item, str):
            continue
        errors = f.is_qualified_name(item)
        yield from f.invalid_each(path, item, errors)
        if not errors and "/" not in item and item not in _STANDARD_FINALIZERS:
            yield f.warning((*path, i), f"{f.render(item)}: {FINALIZER_WARNING}")
    if "orphan" in value and "foregroundDeletion" in value:
        yield f.invalid(path, value, "finalizer orphan and foregroundDeletion cannot be both set")


# --- label selectors ------------------------------------------------------------------------------

_SELECTOR_OPERATORS = {"In", "NotIn", "Exists", "DoesNotExist"}


def label_selector(selector: Any, path: FieldPath) -> Iterator[Problem]:
    """`ValidateLabelSelector` (invalid label values refused, as on every create)."""
    if not isinstance(selector, dict):
        return
    yield from f.labels(selector.get("matchLabels"), (*path, "matchLabels"))
    expressions = selector.get("matchExpressions")
    for i, requirement in enumerate(f.sequence(expressions)):
        if isinstance(requirement, dict):
            yield from _requirement(requirement, (*path, "matchExpressions", i))


def _requirement(requirement: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    operator = requirement.get("operator")
    values = f.sequence(requirement.get("values"))
    if operator in ("In", "NotIn"):
        if not values:
            yield f.required((*path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            yield f.forbidden((*path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
    else:
        yield f.invalid((*path, "operator"), operator, "not a valid selector operator")
    key = requirement.get("key")
    if isinstance(key, str):
        yield from f.invalid_each((*path, "key"), key, f.is_qualified_name(key))
    for j, value in enumerate(values):
        if isinstance(value, str):
            yield from f.invalid_each((*path, "values", j), value, f.is_label_value(value))


def selector_matches(selector: Any, labels: Any) -> bool | None:
    """Whether a label selector selects `labels`; None when the selector cannot be read."""
    if not isinstance(selector, dict):
        return None
    have = {str(k): v for k, v in labels.items()} if isinstance(labels, dict) else {}
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return None
    if any(have.get(str(k)) != v for k, v in match_labels.items()):
        return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return None
    for requirement in expressions:
        if not isinstance(requirement, dict) or requirement.get("operator") not in _SELECTOR_OPERATORS:
            return None
        key, operator = str(requirement.get("key")), requirement["operator"]
        values = requirement.get("values") or []
        if operator == "In" and (key not in have or have[key] not in values):
            return False
        if operator == "NotIn" and key in have and have[key] in values:
            return False
        if operator == "Exists" and key not in have:
            return False
        if operator == "DoesNotExist" and key in have:
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")
