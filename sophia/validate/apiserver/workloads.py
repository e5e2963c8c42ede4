"""Objects that own pods: Pod, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job and CronJob.

Selectors (present, not empty, matching the template), update strategies after the API server's
defaulting, each kind's restart policy, the Job's generated selector and labels, the CronJob's
schedule and time zone. A StatefulSet's pod template is checked as the Pods its controller
creates (its claim templates count as volumes): the API server itself only checks the template's
labels and annotations when the StatefulSet is created, and refuses the Pods later.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from typing import Any

from sophia import cron
from sophia.values import FieldPath

from . import formats as f
from . import meta, pods
from .formats import Problem
from .objects import claim_spec

_ALWAYS = ("Always",)
_ONCE = ("OnFailure", "Never")


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def _template_labels(template: Any) -> Any:
    metadata = template.get("metadata") if isinstance(template, dict) else None
    return metadata.get("labels") if isinstance(metadata, dict) else None


def _nonnegative(spec: dict[str, Any], path: FieldPath, *keys: str) -> Iterator[Problem]:
    for key in keys:
        value = spec.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            yield f.invalid((*path, key), value, f.NEGATIVE)


def _selected_template(spec: dict[str, Any], kind: str, *, required: bool = True) -> Iterator[Problem]:
    """The selector: present, valid, not empty, and selecting the template's labels."""
    selector = spec.get("selector")
    if selector is None:
        if required:
            yield f.required(("spec", "selector"))
        return
    yield from meta.label_selector(selector, ("spec", "selector"))
    if meta.selector_is_empty(selector):
        yield f.invalid(("spec", "selector"), selector, f"empty selector is invalid for {kind}")
        return
    labels = _template_labels(spec.get("template"))
    if meta.selector_matches(selector, labels) is False:
        yield f.invalid(("spec", "template", "metadata", "labels"), f.go_map(labels), "`selector` does not match template `labels`")


def _no_deadline(spec: dict[str, Any], kind: str) -> Iterator[Problem]:
    template_spec = spec.get("template", {}).get("spec") if isinstance(spec.get("template"), dict) else None
    if isinstance(template_spec, dict) and template_spec.get("activeDeadlineSeconds") is not None:
        yield f.forbidden(("spec", "template", "spec", "activeDeadlineSeconds"), f"activeDeadlineSeconds in {kind} is not Supported")


def pod(data: dict[str, Any]) -> Iterator[Problem]:
    spec = data.get("spec")
    if isinstance(spec, dict):
        yield from pods.pod_spec(spec, ("spec",), ("Always", "OnFailure", "Never"))
        yield from pods.warnings(spec, ("spec",))


def deployment(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    yield from _nonnegative(spec, ("spec",), "replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds")
    yield from _selected_template(spec, "deployment")
    yield from pods.template(spec.get("template"), ("spec", "template"), _ALWAYS)
    yield from _no_deadline(spec, "ReplicaSet")
    yield from _deployment_strategy(spec.get("strategy") or {}, ("spec", "strategy"))
    deadline, ready = spec.get("progressDeadlineSeconds", 600), spec.get("minReadySeconds", 0)
    if isinstance(deadline, int) and isinstance(ready, int) and deadline >= 0 and deadline <= ready:
        yield f.invalid(("spec", "progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds")


def _deployment_strategy(strategy: Any, path: FieldPath) -> Iterator[Problem]:
    if not isinstance(strategy, dict):
        return
    kind = strategy.get("type", "RollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            yield f.forbidden((*path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")
        return
    if kind != "RollingUpdate":
        yield f.not_supported(path, strategy, ("Recreate", "RollingUpdate"))
        return
    rolling = rolling if isinstance(rolling, dict) else {}
    surge, unavailable = rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%")
    here = (*path, "rollingUpdate")
    yield from f.positive_int_or_percent(unavailable, (*here, "maxUnavailable"))
    yield from f.positive_int_or_percent(surge, (*here, "maxSurge"))
    if _amount(unavailable) == 0 and _amount(surge) == 0:
        yield f.invalid((*here, "maxUnavailable"), f.Raw(str(unavailable)), "may not be 0 when `maxSurge` is 0")


def _amount(value: Any) -> int | None:
    parsed = f.int_or_percent(value)
    return None if parsed is None else parsed[0]


def replica_set(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    yield from _nonnegative(spec, ("spec",), "replicas", "minReadySeconds")
    yield from _selected_template(spec, "deployment")
    yield from pods.template(spec.get("template"), ("spec", "template"), _ALWAYS)
    yield from _no_deadline(spec, "ReplicaSet")


def daemon_set(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    yield from _nonnegative(spec, ("spec",), "minReadySeconds", "revisionHistoryLimit")
    yield from _selected_template(spec, "daemonset")
    yield from pods.template(spec.get("template"), ("spec", "template"), _ALWAYS)
    yield from _no_deadline(spec, "DaemonSet")
    strategy = f.mapping(spec.get("updateStrategy"))
    kind = strategy.get("type", "RollingUpdate")
    if kind not in ("RollingUpdate", "OnDelete"):
        yield f.not_supported(("spec", "updateStrategy"), strategy, ("RollingUpdate", "OnDelete"))
    elif kind == "RollingUpdate":
        rolling = f.mapping(strategy.get("rollingUpdate"))
        surge, unavailable = rolling.get("maxSurge", 0), rolling.get("maxUnavailable", 1)
        here = ("spec", "updateStrategy", "rollingUpdate")
        yield from f.positive_int_or_percent(unavailable, (*here, "maxUnavailable"))
        yield from f.positive_int_or_percent(surge, (*here, "maxSurge"))
        if _amount(unavailable) and _amount(surge):
            yield f.invalid((*here, "maxSurge"), f.Raw(str(surge)), "may not be set when maxUnavailable is non-zero")
        elif _amount(unavailable) == 0 and _amount(surge) == 0:
            yield f.required((*here, "maxUnavailable"), "cannot be 0 when maxSurge is 0")


def stateful_set(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    yield from _nonnegative(spec, ("spec",), "replicas", "minReadySeconds")
    policy = spec.get("podManagementPolicy", "OrderedReady")
    if policy not in ("OrderedReady", "Parallel"):
        yield f.invalid(("spec", "podManagementPolicy"), policy, "must be 'OrderedReady' or 'Parallel'")
    yield from _stateful_strategy(spec.get("updateStrategy"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        value = retention.get(key, "Retain") if isinstance(retention, dict) else "Retain"
        if value not in ("Retain", "Delete"):
            yield f.not_supported(("spec", "persistentVolumeClaimRetentionPolicy", key), value, ("Retain", "Delete"))
    service = spec.get("serviceName")
    if isinstance(service, str) and service:
        yield from f.invalid_each(("spec", "serviceName"), service, f.is_dns1123_label(service))
    yield from _selected_template(spec, "statefulset")
    claims = []
    for i, claim in enumerate(f.sequence(spec.get("volumeClaimTemplates"))):
        if not isinstance(claim, dict):
            continue
        name = claim.get("metadata", {}).get("name") if isinstance(claim.get("metadata"), dict) else None
        if isinstance(name, str) and name:
            claims.append(name)
        yield from claim_spec(claim.get("spec"), ("spec", "volumeClaimTemplates", i, "spec"))
    yield from pods.template(spec.get("template"), ("spec", "template"), _ALWAYS, claims)
    yield from _no_deadline(spec, "StatefulSet")


def _stateful_strategy(strategy: Any) -> Iterator[Problem]:
    strategy = strategy if isinstance(strategy, dict) else {}
    kind = strategy.get("type", "RollingUpdate")
    rolling = strategy.get("rollingUpdate")
    path = ("spec", "updateStrategy")
    if kind == "OnDelete" and rolling is not None:
        yield f.invalid((*path, "rollingUpdate"), rolling, "only allowed for updateStrategy 'RollingUpdate'")
    elif kind not in ("OnDelete", "RollingUpdate"):
        yield f.invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")
    elif isinstance(rolling, dict):
        yield from _nonnegative(rolling, (*path, "rollingUpdate"), "partition")
        unavailable = rolling.get("maxUnavailable")
        if unavailable is not None:
            here = (*path, "rollingUpdate", "maxUnavailable")
            yield from f.positive_int_or_percent(unavailable, here)
            if _amount(unavailable) == 0:
                yield f.invalid(here, f.Raw(str(unavailable)), "cannot be 0")


def job(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    name = data.get("metadata", {}).get("name") if isinstance(data.get("metadata"), dict) else None
    template = f.mapping(spec.get("template"))
    labels = dict(_template_labels(template) or {})
    if spec.get("manualSelector") is True:
        yield from _selected_template(spec, "job")
    elif isinstance(name, str):
        yield from meta.label_selector(spec.get("selector"), ("spec", "selector"))
        yield from _generated_selector(spec.get("selector"), labels, name)
    yield from _job_spec(spec, ("spec",))
    mode, completions = spec.get("completionMode"), spec.get("completions")
    if mode == "Indexed" and isinstance(name, str) and isinstance(completions, int) and completions > 0:
        hostname = f"{name}-{completions - 1}"
        if f.is_dns1123_label(hostname):
            yield f.invalid(("metadata", "name"), name, f"will not able to create pod with invalid DNS label: {hostname}")


def _generated_selector(selector: Any, labels: dict[str, Any], name: str) -> Iterator[Problem]:
    """What the API server adds when the selector is generated: `job-name` labels and a controller-uid selector."""
    uid = "<uid generated by the API server>"
    for key in ("job-name", "batch.kubernetes.io/job-name"):
        labels.setdefault(key, name)
        if labels[key] != name:
            yield f.invalid(("spec", "template", "metadata", "labels", key), labels[key], f"must be '{name}'")
    for message in f.is_label_value(name):
        yield f.invalid(("spec", "template", "metadata", "labels"), name, message)
    if isinstance(selector, dict):
        generated = {**selector, "matchLabels": {**(selector.get("matchLabels") or {}), "batch.kubernetes.io/controller-uid": uid}}
        expected = {"controller-uid": uid, "batch.kubernetes.io/controller-uid": uid, "job-name": name,
                    "batch.kubernetes.io/job-name": name}
        if meta.selector_matches(generated, expected) is False:
            yield f.invalid(("spec", "selector"), selector, "`selector` not auto-generated")


def _job_spec(spec: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    yield from _nonnegative(spec, path, "parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                            "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes")
    yield from pods.template(spec.get("template"), (*path, "template"), _ONCE)
    template_spec = spec.get("template", {}).get("spec") if isinstance(spec.get("template"), dict) else None
    policy = template_spec.get("restartPolicy") if isinstance(template_spec, dict) else None
    if spec.get("podFailurePolicy") is not None and policy == "OnFailure":
        yield f.invalid((*path, "template", "spec", "restartPolicy"), policy,
                        'only "Never" is supported when podFailurePolicy is specified')


def cron_job(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    schedule = spec.get("schedule")
    if not schedule:
        yield f.required(("spec", "schedule"))
    elif isinstance(schedule, str):
        yield from f.invalid_each(("spec", "schedule"), schedule, cron.schedule_errors(schedule))
    yield from _time_zone(spec.get("timeZone"))
    yield from _nonnegative(spec, ("spec",), "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit")
    policy = spec.get("concurrencyPolicy", "Allow")
    if policy not in ("Allow", "Forbid", "Replace"):
        yield f.not_supported(("spec", "concurrencyPolicy"), policy, ("Allow", "Forbid", "Replace"))
    job_template = f.mapping(spec.get("jobTemplate"))
    job_spec = f.mapping(job_template.get("spec"))
    here = ("spec", "jobTemplate", "spec")
    yield from _job_spec(job_spec, here)
    if job_spec.get("selector") is not None:
        yield f.invalid((*here, "selector"), job_spec["selector"], "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        yield f.not_supported((*here, "manualSelector"), True, ("nil", "false"))


def _time_zone(zone: Any) -> Iterator[Problem]:
    if zone is None or not isinstance(zone, str):
        return
    path = ("spec", "timeZone")
    if not zone:
        yield f.invalid(path, zone, "timeZone must be nil or non-empty string")
        return
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not re.fullmatch(r"[A-Za-z.\-_0-9+]{1,14}", part):
            yield f.invalid(path, zone, f"unknown time zone {zone}")
            return
    if zone.lower() == "local":
        yield f.invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
    elif not _known_zone(zone):
        yield f.invalid(path, zone, f"unknown time zone {zone}")


def _known_zone(zone: str) -> bool:
    """Whether the IANA database knows `zone`; True when no database is installed (never refuse blind)."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return not zoneinfo.available_timezones()
    return True
