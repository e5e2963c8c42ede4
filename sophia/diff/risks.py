"""Risk flags: changes Argo CD will apply badly, or that lose data, widen access, weaken a pod's
hardening or cost GPUs.

Each check looks at the two object trees (or the changes between them) and returns `Risk`s, every
one with a hint on what to do. The checks are pure functions of plain manifests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sophia.diff.model import Change, Manifest, Obj, ObjectKey, Tree, changed_fields
from sophia.values import quantity_or_none as _quantity

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
GPU = "nvidia.com/gpu"
REPLACE_HINT = (
    "Argo CD cannot patch an immutable field and the sync will fail; delete and recreate the object "
    "(annotate it `argocd.argoproj.io/sync-options: Replace=true,Force=true` for this sync), or give it a new name"
)


@dataclass(frozen=True, order=True)
class Risk:
    """One risky change, where it is, and what to do about it."""

    env: str
    app: str
    key: ObjectKey
    code: str
    message: str
    hint: str


def _get(manifest: Manifest | None, dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _risk(obj: Obj, code: str, message: str, hint: str) -> Risk:
    return Risk(obj.env, obj.app, obj.key, code, message, hint)


# -- immutable fields ------------------------------------------------------------------------------

_IMMUTABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec.selector",),
    ("apps", "ReplicaSet"): ("spec.selector",),
    ("apps", "DaemonSet"): ("spec.selector",),
    ("apps", "StatefulSet"): ("spec.selector", "spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"),
    ("batch", "Job"): ("spec.selector", "spec.template", "spec.completionMode"),
    ("", "PersistentVolumeClaim"): ("spec.storageClassName", "spec.accessModes", "spec.volumeMode", "spec.volumeName", "spec.selector"),
    ("", "Service"): ("spec.clusterIP", "spec.clusterIPs"),
}


def immutable_fields(change: Change) -> list[Risk]:
    """A changed field that the API server refuses to update in place."""
    if change.status != "changed" or change.old is None or change.new is None:
        return []
    old, new = change.old.manifest, change.new.manifest
    risks: list[Risk] = []
    for dotted in _IMMUTABLE.get((change.key.group, change.key.kind), ()):
        before, after = _get(old, dotted), _get(new, dotted)
        if before != after:
            risks.append(_risk(change.new, "immutable-field", _what_changed(dotted, before, after), REPLACE_HINT))
    payload = ("data", "binaryData", "stringData")
    if (change.key.group, change.key.kind) in (("", "ConfigMap"), ("", "Secret")) and old.get("immutable") is True \
            and [old.get(k) for k in payload] != [new.get(k) for k in payload]:
        risks.append(_risk(change.new, "immutable-field", "the data of an immutable object changes",
                           "give it a new name (for example with a content hash) and point its users at the new name"))
    if change.key.kind == "PersistentVolumeClaim" and change.key.group == "":
        before, after = _quantity(_get(old, "spec.resources.requests.storage")), _quantity(_get(new, "spec.resources.requests.storage"))
        if before is not None and after is not None and after < before:
            risks.append(_risk(change.new, "immutable-field", "the storage request shrinks; volumes can only grow",
                               "keep the size, or create a new claim and copy the data"))
    return risks


def _what_changed(dotted: str, before: Any, after: Any) -> str:
    """`spec.serviceName changes (a -> b)`, or the changed sub-fields of a structured field."""
    if isinstance(before, dict | list) or isinstance(after, dict | list):
        inner = changed_fields(before, after, dotted)
        shown = ", ".join(inner[:4]) + (f" (+{len(inner) - 4} more)" if len(inner) > 4 else "")
        return f"immutable {dotted} changes: {shown}"
    return f"immutable {dotted} changes ({_short(before)} -> {_short(after)})"


def _short(value: Any, limit: int = 60) -> str:
    text = "unset" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- data loss ---------------------------------------------------------------------------------------

_STATEFUL = {("apps", "StatefulSet"), ("", "PersistentVolumeClaim")}


def data_loss(changes: list[Change]) -> list[Risk]:
    """A StatefulSet or PVC that disappears (or is renamed), or volume claim templates that disappear."""
    risks: list[Risk] = []
    added = [c for c in changes if c.status == "added"]
    for change in changes:
        kind = (change.key.group, change.key.kind)
        if change.status == "removed" and kind in _STATEFUL and change.old is not None:
            twins = [c.key.name for c in added
                     if (c.env, c.key.group, c.key.kind, c.key.namespace) == (change.env, *kind, change.key.namespace)]
            what = f"removed (renamed to {', '.join(twins)}?)" if twins else "removed"
            hint = ("Argo CD prunes it; claims of a renamed StatefulSet are not adopted by the new one (their names derive from "
                    "the StatefulSet's). Back the data up first, or keep the name; annotate `argocd.argoproj.io/sync-options: "
                    "Prune=false` to keep the object while you migrate")
            risks.append(_risk(change.old, "data-loss", f"{change.key.kind} {what}: its volumes and their data can be lost", hint))
        if change.status == "changed" and kind == ("apps", "StatefulSet") and change.old is not None and change.new is not None:
            gone = sorted(_claim_names(change.old.manifest) - _claim_names(change.new.manifest))
            if gone:
                risks.append(_risk(change.new, "data-loss", f"volume claim template(s) {', '.join(gone)} disappear",
                                   "the pods lose those volumes; back the data up and migrate it before this sync"))
    return risks


def _claim_names(manifest: Manifest) -> set[str]:
    return {str(_get(t, "metadata.name")) for t in (_get(manifest, "spec.volumeClaimTemplates") or []) if isinstance(t, dict)}


def namespace_deletion(change: Change) -> list[Risk]:
    """Deleting a Namespace deletes everything in it, including objects no app of ours manages."""
    if change.status == "removed" and change.key == ObjectKey("", "Namespace", "", change.key.name) and change.old is not None:
        return [_risk(change.old, "namespace-deletion", "Namespace removed: Argo CD prunes it and Kubernetes deletes every object in it",
                      "make sure nothing in it is still needed (claims, secrets made by hand); "
                      "annotate `argocd.argoproj.io/sync-options: Prune=false` to keep it")]
    return []


# -- AppProject widening -----------------------------------------------------------------------------

_PROJECT_LISTS = ("sourceRepos", "destinations", "clusterResourceWhitelist", "namespaceResourceWhitelist", "sourceNamespaces")
_PROJECT_BLACKLISTS = ("clusterResourceBlacklist", "namespaceResourceBlacklist")


def project_widening(change: Change) -> list[Risk]:
    """An AppProject that lets its applications reach more: new sources, destinations, kinds, or wildcards."""
    if change.key.kind != "AppProject" or change.key.group != "argoproj.io" or change.new is None:
        return []
    old = change.old.manifest if change.old else {}
    new = change.new.manifest
    found: list[str] = []
    for name in _PROJECT_LISTS:
        before = _get(old, f"spec.{name}") or []
        if change.old is None:
            continue  # a new project is only checked for wildcards
        fresh = [e for e in (_get(new, f"spec.{name}") or []) if e not in before]
        if fresh:
            found.append(f"{name} gains {', '.join(_entry(e) for e in fresh)}")
    for name in _PROJECT_BLACKLISTS:
        after = _get(new, f"spec.{name}") or []
        dropped = [e for e in (_get(old, f"spec.{name}") or []) if e not in after]
        if dropped:
            found.append(f"{name} loses {', '.join(_entry(e) for e in dropped)}")
    stars = sorted(set(_wildcards(_get(new, "spec"), "spec")) - set(_wildcards(_get(old, "spec"), "spec")))
    if stars:
        found.append(f"new wildcard(s) at {', '.join(stars)}")
    if not found:
        return []
    return [_risk(change.new, "project-widened", f"AppProject widened: {'; '.join(found)}",
                  "check that every application of this project may really reach this; keep the project as narrow as the environment")]


def _entry(entry: Any) -> str:
    if isinstance(entry, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(entry.items())) + "}"
    return str(entry)


def _wildcards(value: Any, path: str) -> Iterable[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _wildcards(v, f"{path}.{k}")
    elif isinstance(value, list):
        for item in value:  # by content, not index: a wildcard that moves in a list is not new
            yield from _wildcards(item, f"{path}[]")
    elif isinstance(value, str) and "*" in value:
        yield f"{path}={value}"


# -- sync waves --------------------------------------------------------------------------------------


def _wave(obj: Obj) -> int | None:
    value = (_get(obj.manifest, "metadata.annotations") or {}).get(SYNC_WAVE, "0")
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def sync_wave_inversions(old: Tree, new: Tree) -> list[Risk]:
    """Two objects of one app folder (Applications in argocd/ included) whose sync order flips; no annotation is wave 0."""
    folders: dict[tuple[str, str], list[tuple[Obj, int, int]]] = {}
    for ident, now in new.items():
        before = old.get(ident)
        if before is None:
            continue
        a, b = _wave(before), _wave(now)
        if a is not None and b is not None:
            folders.setdefault((now.env, now.app), []).append((now, a, b))
    risks: list[Risk] = []
    for members in folders.values():
        reported: set[tuple[ObjectKey, ObjectKey]] = set()
        for obj, a, b in sorted(members, key=lambda m: m[0].key):
            if a == b:
                continue
            flipped = [o for o, c, d in members if o is not obj and (a - c) * (b - d) < 0 and (o.key, obj.key) not in reported]
            if not flipped:
                continue
            reported.update((obj.key, o.key) for o in flipped)
            names = [f"{o.key.kind} {o.key.name}" for o in sorted(flipped, key=lambda o: o.key)]
            shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
            side = "after" if b > a else "before"
            risks.append(_risk(obj, "sync-wave-inversion", f"sync-wave {a} -> {b}: now syncs {side} {shown}",
                               "check that what it depends on still syncs first; objects of a lower wave must be healthy "
                               "before the next wave starts"))
    return risks


# -- capacity ----------------------------------------------------------------------------------------

_WORKLOADS = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet"), ("apps", "DaemonSet"),
              ("batch", "Job"), ("batch", "CronJob"), ("", "Pod")}


def _pod_spec(manifest: Manifest, kind: str) -> Manifest:
    if kind == "Pod":
        return _get(manifest, "spec") or {}
    if kind == "CronJob":
        return _get(manifest, "spec.jobTemplate.spec.template.spec") or {}
    return _get(manifest, "spec.template.spec") or {}


def _gpus_per_pod(pod: Manifest) -> float:
    def one(container: Any) -> float:
        res = container.get("resources") or {} if isinstance(container, dict) else {}
        return max(_quantity((res.get("limits") or {}).get(GPU)) or 0.0, _quantity((res.get("requests") or {}).get(GPU)) or 0.0)
    main = sum(one(c) for c in pod.get("containers") or [])
    init = max((one(c) for c in pod.get("initContainers") or []), default=0.0)
    return max(main, init)


def _replicas(obj: Obj, scalers: dict[tuple[str, str, str, str], int]) -> int:
    """Pods at most: HPA maxReplicas when one targets the object, else spec.replicas (or parallelism) defaulting to 1."""
    key = obj.key
    scaled = scalers.get((obj.env, key.kind, key.namespace, key.name))
    if scaled is not None:
        return scaled
    field = "spec.parallelism" if key.kind == "Job" else "spec.jobTemplate.spec.parallelism" if key.kind == "CronJob" else "spec.replicas"
    value = _get(obj.manifest, field)
    return int(value) if isinstance(value, int) else 1


def _scalers(tree: Tree) -> dict[tuple[str, str, str, str], int]:
    out: dict[tuple[str, str, str, str], int] = {}
    for (env, key), obj in tree.items():
        if key.kind == "HorizontalPodAutoscaler" and isinstance(_get(obj.manifest, "spec.maxReplicas"), int):
            ref = _get(obj.manifest, "spec.scaleTargetRef") or {}
            out[(env, str(ref.get("kind")), key.namespace, str(ref.get("name")))] = int(_get(obj.manifest, "spec.maxReplicas"))
    return out


def gpu_growth(old: Tree, new: Tree) -> list[Risk]:
    """Objects whose GPUs (per pod x replicas, HPA maxReplicas when scaled) grow, new objects included."""
    old_scalers, new_scalers = _scalers(old), _scalers(new)
    risks: list[Risk] = []
    for ident, now in sorted(new.items(), key=lambda i: (i[0][0], i[0][1])):
        if (now.key.group, now.key.kind) not in _WORKLOADS:
            continue
        after_pod = _gpus_per_pod(_pod_spec(now.manifest, now.key.kind))
        after = after_pod * _replicas(now, new_scalers)
        before_obj = old.get(ident)
        before = 0.0
        if before_obj is not None:
            before = _gpus_per_pod(_pod_spec(before_obj.manifest, now.key.kind)) * _replicas(before_obj, old_scalers)
        if after > before:
            per_node = " per node" if now.key.kind == "DaemonSet" else ""
            risks.append(_risk(now, "gpu-growth", f"GPU request grows from {_num(before)} to {_num(after)} {GPU}{per_node}",
                               "check that the GPU pool has that many free GPUs, or pods will stay Pending; "
                               "and that the budget allows it"))
    return risks


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def scale_to_zero(change: Change) -> list[Risk]:
    """A workload whose replicas (or an HPA whose maxReplicas) drop to 0."""
    if change.status != "changed" or change.old is None or change.new is None:
        return []
    field = "spec.maxReplicas" if change.key.kind == "HorizontalPodAutoscaler" else "spec.replicas"
    if change.key.kind not in ("Deployment", "StatefulSet", "ReplicaSet", "HorizontalPodAutoscaler"):
        return []
    before, after = _get(change.old.manifest, field), _get(change.new.manifest, field)
    if after == 0 and before != 0:
        return [_risk(change.new, "scale-to-zero", f"{field} drops to 0 (was {1 if before is None else before})",
                      "this stops the service; if that is intended, say so in the PR")]
    return []


# -- hardening ---------------------------------------------------------------------------------------

HARDENING_HINT = (
    "a protection of the restricted Pod Security profile is removed or weakened; `sophia validate` fails it unless the "
    "service waives the rule with a reason (`waivers:`). Make sure that is intended and reviewed, or keep the setting"
)
_STRONG_SECCOMP = ("RuntimeDefault", "Localhost")


def hardening_weakened(change: Change) -> list[Risk]:
    """A workload whose containers lose a hardening setting (the container's own, else the pod's where Kubernetes
    inherits it): runAsNonRoot, allowPrivilegeEscalation, readOnlyRootFilesystem, privileged, capabilities,
    seccompProfile."""
    if change.status != "changed" or change.old is None or change.new is None:
        return []
    if (change.key.group, change.key.kind) not in _WORKLOADS:
        return []
    before = _pod_spec(change.old.manifest, change.key.kind)
    after = _pod_spec(change.new.manifest, change.key.kind)
    old_containers = _containers(before)
    found: list[str] = []
    for name, container in _containers(after).items():
        old = old_containers.get(name)
        if old is not None:
            weakened = _weakened(_settings(before, old), _settings(after, container))
            found.extend(f"{name}: {w}" for w in weakened)
    if not found:
        return []
    shown = "; ".join(found[:6]) + (f" (+{len(found) - 6} more)" if len(found) > 6 else "")
    return [_risk(change.new, "hardening-weakened", f"hardening weakened: {shown}", HARDENING_HINT)]


def _containers(pod: Manifest) -> dict[str, Manifest]:
    """The containers and init containers (native sidecars included) of a pod, by name."""
    return {str(c.get("name")): c for part in ("initContainers", "containers") for c in pod.get(part) or []
            if isinstance(c, dict)}


def _settings(pod: Manifest, container: Manifest) -> dict[str, Any]:
    """The hardening that applies to `container`: its securityContext, else the pod's for the inherited fields."""
    own = container.get("securityContext") or {}
    pod_level = pod.get("securityContext") or {}
    capabilities = own.get("capabilities") or {}
    seccomp = own.get("seccompProfile") or pod_level.get("seccompProfile") or {}
    return {
        "runAsNonRoot": own.get("runAsNonRoot", pod_level.get("runAsNonRoot")),
        "allowPrivilegeEscalation": own.get("allowPrivilegeEscalation"),
        "readOnlyRootFilesystem": own.get("readOnlyRootFilesystem"),
        "privileged": own.get("privileged"),
        "drop": {str(c) for c in capabilities.get("drop") or []},
        "add": {str(c) for c in capabilities.get("add") or []},
        "seccomp": seccomp.get("type") if isinstance(seccomp, dict) else None,
    }


def _weakened(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for field, safe in (("runAsNonRoot", True), ("allowPrivilegeEscalation", False), ("readOnlyRootFilesystem", True)):
        if old[field] is safe and new[field] is not safe:
            found.append(f"{field} {_flag(old[field])} -> {_flag(new[field])}")
    if old["privileged"] is not True and new["privileged"] is True:
        found.append(f"privileged {_flag(old['privileged'])} -> true")
    if lost := sorted(old["drop"] - new["drop"]):
        found.append(f"capabilities.drop loses {', '.join(lost)}")
    if gained := sorted(new["add"] - old["add"]):
        found.append(f"capabilities.add gains {', '.join(gained)}")
    if old["seccomp"] in _STRONG_SECCOMP and new["seccomp"] not in _STRONG_SECCOMP:
        found.append(f"seccompProfile {old['seccomp']} -> {new['seccomp'] or 'unset'}")
    return found


def _flag(value: Any) -> str:
    return "unset" if value is None else str(value).lower()


def moved_between_apps(change: Change) -> list[Risk]:
    """An object that moves to another Argo CD application: the old app may prune it before the new one adopts it."""
    if not change.moved or change.old is None or change.new is None or change.old.app == change.new.app:
        return []
    return [_risk(change.new, "app-move", f"moves from application folder {change.old.app or '.'} to {change.new.app or '.'}",
                  "the old application can prune it before the new one creates it; annotate it "
                  "`argocd.argoproj.io/sync-options: Prune=false` for the move, then remove the annotation")]


PER_CHANGE: tuple[Callable[[Change], list[Risk]], ...] = (immutable_fields, namespace_deletion, project_widening, scale_to_zero,
                                                          hardening_weakened, moved_between_apps)


def find_risks(old: Tree, new: Tree, changes: list[Change]) -> list[Risk]:
    """Every risk of going from `old` to `new`, sorted by place."""
    risks = [r for change in changes for check in PER_CHANGE for r in check(change)]
    risks += data_loss(changes)
    risks += sync_wave_inversions(old, new)
    risks += gpu_growth(old, new)
    return sorted(set(risks))
