"""Health checks: compose `healthcheck:` -> liveness and readiness probes (HTTP when the test is a curl or
wget of the container itself, else the command).
"""

from __future__ import annotations

import math
import re
import shlex
from typing import Any

from sophia.importer.compose import scalar
from sophia.importer.mapped import Mapped
from sophia.importer.ports import named_port, small_number
from sophia.values import ipv4_literals, replace_ipv4

_SHELL_META = re.compile(r"[|&;<>$`()*?\\\"']")
_DURATION = re.compile(r"([0-9.]+)(ms|us|ns|h|m|s)")


def _seconds(value: Any, default: int) -> int:
    if value is None:
        return default
    text = scalar(value).text
    total = 0.0
    found = False
    for number, unit in _DURATION.findall(text):
        found = True
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}[unit]
    if not found:
        return default
    return max(1, math.ceil(total))


def healthcheck_probes(m: Mapped, raw: dict[str, Any], ports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Liveness and readiness probes from `healthcheck:`, or none."""
    hc = raw.get("healthcheck")
    if not isinstance(hc, dict) or hc.get("disable") or "test" not in hc:
        return {}
    test = hc["test"]
    if isinstance(test, list):
        words = [scalar(t).text for t in test]
        if not words or words[0] == "NONE":
            return {}
        if words[0] == "CMD-SHELL":
            argv = _shell(" ".join(words[1:]))
        elif words[0] == "CMD":
            argv = words[1:]
        else:
            argv = words
    else:
        argv = _shell(scalar(test).text)
    if not argv:
        return {}
    check: dict[str, Any] = {}
    if argv[0] in ("curl", "wget"):
        for arg in argv[1:]:
            hm = re.match(r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::([0-9]+))?(/[^\s]*)?$", arg)
            if hm:
                port = int(hm.group(2) or (443 if arg.startswith("https") else 80))
                check = {"http": {"path": hm.group(3) or "/", "port": named_port(ports, port)}}
                break
    if not check:
        argv = [replace_ipv4(a, "127.0.0.1", "localhost") for a in argv]
        if any(ipv4_literals(a) for a in argv):
            m.note("probe-skipped", "the health check names an IP address; no probe written")
            return {}
        check = {"exec": argv}
    probe: dict[str, Any] = dict(check)
    probe["periodSeconds"] = _seconds(hc.get("interval"), 30)
    probe["timeoutSeconds"] = _seconds(hc.get("timeout"), 30)
    retries = small_number(scalar(hc.get("retries")).text) if hc.get("retries") is not None else None
    probe["failureThreshold"] = retries or 3
    start = _seconds(hc.get("start_period"), 0) if hc.get("start_period") is not None else 0
    if start:
        probe["initialDelaySeconds"] = start
    return {"liveness": probe, "readiness": dict(probe)}


def _shell(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if _SHELL_META.search(text):
        return ["sh", "-c", text]
    return shlex.split(text)
