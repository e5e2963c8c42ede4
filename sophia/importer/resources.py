"""Resources, GPUs, replicas, placement and security: compose and swarm `deploy:` settings -> requests and
limits, whole GPUs, replicas; what cannot be imported is noted or flagged.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sophia.importer.compose import scalar
from sophia.importer.mapped import Mapped
from sophia.values import memory_bytes, millicores

DEFAULT_GPU_MODEL = "GH200"
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
DEFAULT_LIMITS = {"cpu": "1", "memory": "1Gi"}
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?$", re.IGNORECASE)


def _cpu(value: Any) -> str | None:
    try:
        cores = float(scalar(value).text)
    except ValueError:
        return None
    milli = max(1, round(cores * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def _memory(value: Any) -> str | None:
    mm = _MEMORY.match(scalar(value).text.strip())
    if mm is None:
        return None
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[mm.group(2).lower()]
    size = float(mm.group(1)) * factor
    mib = math.ceil(size / 1024**2)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _section(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]` when it is a mapping, else an empty one (compose leaves sections out or malformed)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def resources_of(m: Mapped, raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Requests and limits from `deploy.resources` (or the v2 keys), defaults filled in and noted."""
    deploy = _section(raw, "deploy")
    res = _section(deploy, "resources")
    lim = _section(res, "limits")
    rsv = _section(res, "reservations")
    limits = {"cpu": _cpu(lim["cpus"]) if "cpus" in lim else (_cpu(raw["cpus"]) if "cpus" in raw else None),
              "memory": _memory(lim["memory"]) if "memory" in lim else (_memory(raw["mem_limit"]) if "mem_limit" in raw else None)}
    requests = {"cpu": _cpu(rsv["cpus"]) if "cpus" in rsv else None,
                "memory": _memory(rsv["memory"]) if "memory" in rsv
                else (_memory(raw["mem_reservation"]) if "mem_reservation" in raw else None)}
    defaulted: list[str] = []
    for k in ("cpu", "memory"):
        if requests[k] is None and limits[k] is not None:
            requests[k] = limits[k]  # Kubernetes' own rule: requests default to limits
        if requests[k] is None:
            requests[k] = DEFAULT_REQUESTS[k]
            defaulted.append(f"requests.{k}={DEFAULT_REQUESTS[k]}")
        if limits[k] is None:
            limits[k] = DEFAULT_LIMITS[k]
            defaulted.append(f"limits.{k}={DEFAULT_LIMITS[k]}")
    req_cpu, lim_cpu = str(requests["cpu"]), str(limits["cpu"])
    if millicores(lim_cpu) < millicores(req_cpu):
        limits["cpu"] = req_cpu
    if memory_bytes(str(limits["memory"])) < memory_bytes(str(requests["memory"])):
        limits["memory"] = requests["memory"]
    if defaulted:
        m.note("resources-defaulted", "compose gives none for " + ", ".join(defaulted))
    return {"limits": {k: str(v) for k, v in limits.items()}, "requests": {k: str(v) for k, v in requests.items()}}


def gpu_ask(m: Mapped, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The whole GPUs a definition asks for, or None (an ambiguous ask is flagged, not imported)."""
    deploy = _section(raw, "deploy")
    res = _section(deploy, "resources")
    counts: list[int] = []
    for where, block in (("deploy.resources", res), ("deploy.resources.limits", res.get("limits"))):
        if not isinstance(block, dict) or "generic_resources" not in block:
            continue
        for spec in _gpu_specs(block["generic_resources"]):
            original = f"{where}.generic_resources: {spec.get('kind')}={spec.get('value')}"
            text = scalar(spec.get("value")).text
            if re.fullmatch(r"[0-9]+", text) and int(text) >= 1:
                counts.append(int(text))
                m.flag("invalid-gpu-spec", f"{original} is in the wrong place (swarm reads it only under "
                       f"deploy.resources.reservations), but the ask is unambiguous: {text} whole GPU(s) imported")
            else:
                m.flag("invalid-gpu", f"{original}: misplaced and not a whole number of GPUs: GPU not imported")
    rsv = _section(res, "reservations")
    for spec in _gpu_specs(rsv.get("generic_resources")):
        counts.extend(_gpu_count(m, spec.get("value"), "generic_resources value"))
    for dev in rsv.get("devices") or []:
        if not isinstance(dev, dict):
            continue
        caps = [str(c) for c in dev.get("capabilities") or []]
        if "gpu" not in caps and str(dev.get("driver", "")) != "nvidia":
            continue
        if "count" in dev:
            counts.extend(_gpu_count(m, dev["count"], "devices count"))
        elif dev.get("device_ids"):
            counts.append(len(dev["device_ids"]))
        else:
            m.flag("invalid-gpu", "a GPU device reservation without count or device_ids: GPU not imported")
    if raw.get("runtime") == "nvidia" and not counts:
        m.flag("invalid-gpu", "runtime: nvidia states no GPU count (docker exposes every GPU of the host): "
               "ambiguous, GPU not imported")
    if not counts:
        return None
    m.note("gpu-model-defaulted", f"compose names no GPU model; {DEFAULT_GPU_MODEL} assumed")
    return {"count": max(counts), "models": [DEFAULT_GPU_MODEL]}


def _gpu_specs(items: Any) -> list[dict[str, Any]]:
    """The GPU `discrete_resource_spec`s of a `generic_resources` list."""
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        spec = item.get("discrete_resource_spec") if isinstance(item, dict) else None
        if isinstance(spec, dict) and "gpu" in str(spec.get("kind", "")).lower():
            out.append(spec)
    return out


def _gpu_count(m: Mapped, value: Any, what: str) -> list[int]:
    text = scalar(value).text
    if re.fullmatch(r"[0-9]+", text) and int(text) >= 1:
        return [int(text)]
    why = " (every GPU of the host: no per-pod equivalent)" if text == "all" else ""
    m.flag("invalid-gpu", f"{what} {text!r} is not a whole number of GPUs{why}: ambiguous, GPU not imported")
    return []


def replicas_of(m: Mapped, raw: dict[str, Any]) -> int:
    """Replicas from `deploy.replicas` or `scale`; global mode is one."""
    deploy = _section(raw, "deploy")
    if deploy.get("mode") == "global":
        m.note("global-mode", "deploy.mode global (one per node) imported as 1 replica")
        return 1
    value = deploy.get("replicas", raw.get("scale"))
    if value is None:
        return 1
    iv = scalar(value)
    try:
        n = int(iv.text)
    except ValueError:
        m.note("replicas-defaulted", f"replicas {iv.text!r} is not a number; 1 used")
        return 1
    return max(n, 0)


def note_placement(m: Mapped, raw: dict[str, Any]) -> None:
    """Note swarm placement constraints: a node pool is set by hand."""
    deploy = _section(raw, "deploy")
    placement = _section(deploy, "placement")
    constraints = [str(c) for c in placement.get("constraints") or []]
    if constraints:
        m.note("placement-not-mapped", "swarm constraints " + "; ".join(constraints) + " -> node pool set by hand")


def flag_privileges(m: Mapped, raw: dict[str, Any]) -> None:
    """Flag what pods never get: privileged, host namespaces, added capabilities."""
    if raw.get("privileged"):
        m.flag("privileged", "privileged: true not imported (pods run restricted)")
    for key in ("network_mode", "pid", "ipc"):
        if str(raw.get(key, "")) == "host":
            m.flag("privileged", f"{key}: host not imported")
    if raw.get("cap_add"):
        m.flag("privileged", "cap_add " + ", ".join(str(c) for c in raw["cap_add"]) + " not imported")
