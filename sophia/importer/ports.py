"""Ports: compose `ports:`/`expose:` entries -> named service ports, and host ports two services publish.
"""

from __future__ import annotations

from typing import Any

from sophia.importer.compose import ComposeFile, scalar
from sophia.importer.mapped import Mapped

KNOWN_PORTS: dict[int, tuple[str, str]] = {
    5432: ("postgres", "postgresql"),
    6379: ("redis", "redis"),
    3306: ("mysql", "mysql"),
    27017: ("mongodb", "mongodb"),
    5672: ("amqp", "amqp"),
    1025: ("smtp", "smtp"),
    443: ("https", "https"),
}
"""Well-known container ports: (port name, URL scheme)."""


def parse_port(item: Any) -> tuple[int | None, str, int | None, str]:
    """(container port, protocol, published host port, text) of one `ports:` entry."""
    if isinstance(item, dict):
        target = scalar(item.get("target")).text
        published = scalar(item.get("published")).text if item.get("published") is not None else ""
        proto = scalar(item.get("protocol", "tcp")).text.lower()
        return small_number(target), "UDP" if proto == "udp" else "TCP", small_number(published.split("-")[0]), f"{published}:{target}"
    text = scalar(item).text
    proto = "TCP"
    if "/" in text:
        text, p = text.rsplit("/", 1)
        proto = "UDP" if p.lower() == "udp" else "TCP"
    parts = text.split(":")
    container = parts[-1].split("-")[0]
    host = parts[-2].split("-")[0] if len(parts) >= 2 else ""
    return small_number(container), proto, small_number(host), text


def small_number(text: str) -> int | None:
    """A whole number from 1 to 65535 (a port, a retry count), or None."""
    try:
        value = int(str(text).strip())
    except ValueError:
        return None
    return value if 1 <= value <= 65535 else None


def named_port(ports: dict[str, dict[str, Any]], port: int, proto: str = "TCP", scheme: str | None = None) -> str:
    """The name of `port` among `ports`, added (named after its well-known use) when missing."""
    for name, p in ports.items():
        if p["port"] == port and p.get("protocol", "TCP") == proto:
            return name
    if proto == "UDP":
        name, sch = f"udp-{port}", "udp"
    elif port in KNOWN_PORTS:
        name, sch = KNOWN_PORTS[port]
    elif "http" not in ports:
        name, sch = "http", "http"
    else:
        name, sch = f"http-{port}", "http"
    if name in ports:
        name = f"p-{port}"
    entry: dict[str, Any] = {"port": port}
    if proto == "UDP":
        entry["protocol"] = "UDP"
    sch = scheme or sch
    if sch != "http":
        entry["scheme"] = sch if sch != "udp" else "http"
    ports[name] = entry
    return name


def service_ports(m: Mapped, raw: dict[str, Any], known: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The named ports of a definition, from `ports:` and `expose:` (or its image's well-known port)."""
    ports: dict[str, dict[str, Any]] = {}
    for item in list(raw.get("ports") or []) + list(raw.get("expose") or []):
        container, proto, host, text = parse_port(item)
        if container is None:
            m.note("port-skipped", f"port {text!r} has no usable container port")
            continue
        named_port(ports, container, proto)
        if host is not None and item not in (raw.get("expose") or []):
            m.host_ports.append(host)
    if not ports and known.get("port"):
        named_port(ports, int(known["port"]))
        m.note("port-inferred", f"no ports given; {known['port']} is the image's well-known port")
    return ports


def flag_port_clashes(defs: list[Mapped]) -> None:
    """Flag host ports two definitions of one file publish."""
    seen: dict[int, Mapped] = {}
    for d in defs:
        for hp in sorted(set(d.host_ports)):
            other = seen.get(hp)
            if other is None:
                seen[hp] = d
                continue
            d.flag("port-clash", f"host port {hp} is also published by {other.src.name}")
            other.flag("port-clash", f"host port {hp} is also published by {d.src.name}")


def published_by(cfile: ComposeFile, host_port: int) -> tuple[str, int] | None:
    """The one service of `cfile` publishing `host_port` on its host, and its container port."""
    found: list[tuple[str, int]] = []
    for s in cfile.services:
        for item in s.raw.get("ports") or []:
            container, _proto, host, _text = parse_port(item)
            if host == host_port and container is not None:
                found.append((s.name, container))
    return found[0] if len(found) == 1 else None
