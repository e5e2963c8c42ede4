"""IP addresses in compose files: who owns an address (a service, the file's host, extra_hosts), what a
loopback or bind address means in a pod, and addresses left in fields that are not imported.
"""

from __future__ import annotations

from typing import Any

from sophia.importer.compose import ComposeFile, interpolate
from sophia.importer.mapped import Mapped
from sophia.values import ipv4_literals

_LOOPBACK = {"127.0.0.1", "0.0.0.0"}
POD_IP_REF = "$(POD_IP)"
"""The pod's own address in a command (sophia defines POD_IP from the downward API when a command uses it)."""
DOCKER_DNS = "127.0.0.11"
"""Docker's embedded DNS server: there is no such address in a pod."""


def describe_ip(ip: str) -> str:
    """What a loopback or bind address is, in words for a flag."""
    if ip == DOCKER_DNS:
        return "Docker's embedded DNS server, which a pod does not have"
    return "all interfaces" if ip == "0.0.0.0" else "loopback" if ip.startswith("127.") else "unknown"


def is_local_ip(ip: str) -> bool:
    """Whether an address is loopback or every interface (it means the container itself)."""
    return ip == "0.0.0.0" or ip.startswith("127.")


def find_ip_owners(files: list[ComposeFile]) -> dict[str, str]:
    """Who answers on each address the compose files name: the file's host, a service's fixed address, extra_hosts."""
    owners: dict[str, str] = {}
    for f in files:
        for ip, comment in f.host_ips.items():
            owners.setdefault(ip, f"the host {f.file} was deployed on ({comment})")
        for s in f.services:
            nets = s.raw.get("networks")
            if isinstance(nets, dict):
                for cfg in nets.values():
                    if isinstance(cfg, dict) and cfg.get("ipv4_address"):
                        owners.setdefault(str(cfg["ipv4_address"]), f"service {s.name} of {f.file}")
            hosts = s.raw.get("extra_hosts")
            items = hosts.items() if isinstance(hosts, dict) else (str(h).split(":", 1) for h in hosts or [] if ":" in str(h))
            for host, ip in items:
                owners.setdefault(str(ip).strip(), f"host {str(host).strip()} (extra_hosts of {s.name})")
    return owners


def ip_owner(ip: str, owners: dict[str, str]) -> str:
    """Who answers on `ip`, in words for a flag."""
    if ip in owners:
        return owners[ip]
    if ip in _LOOPBACK:
        return describe_ip(ip)
    return "unknown: no service of the import has that address"


def note_unused_ips(m: Mapped, raw: Any, owners: dict[str, str], reported: set[str]) -> None:
    """Note the addresses left in fields the import does not carry over (the health check aside)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            found.update(ipv4_literals(interpolate(v).text))

    walk({k: v for k, v in raw.items() if k not in ("healthcheck",)})
    for ip in sorted(found - reported - {"0.0.0.0"}):
        m.note("ip-literal-unused", f"{ip} ({ip_owner(ip, owners)}) appears in a field that is not imported")
