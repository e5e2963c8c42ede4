"""Reading compose and swarm stack files: parse safely, interpolate `${VAR}` without the host environment.

Parsing goes through `sophia.model.yamlsafe` (anchors and merge keys resolved, python tags and
duplicate keys refused). Interpolation never reads `os.environ`: every variable is taken as unset,
so a default (`${VAR:-x}`, `${VAR-x}`) is used and a variable without one stays unresolved, written
back as `${VAR}` and reported by the caller where it matters. That keeps the import deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia.model.yamlsafe import YamlProblem, load_documents, load_text
from sophia.values import ENV_NAME, ipv4_literals


class ComposeError(Exception):
    """A compose file that cannot be read at all."""


@dataclass(frozen=True)
class Interpolated:
    """A string after interpolation, with what was defaulted and what stayed unresolved."""

    text: str
    unresolved: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()

    @property
    def resolved(self) -> bool:
        return not self.unresolved


@dataclass(frozen=True)
class ComposeService:
    """One service definition of one file, uninterpolated (anchors and merge keys applied)."""

    file: str
    name: str
    raw: dict[str, Any]
    line: int


@dataclass
class ComposeFile:
    """A parsed compose file: its services in file order and its top-level volumes."""

    file: str
    services: list[ComposeService] = field(default_factory=list)
    volumes: dict[str, Any] = field(default_factory=dict)
    host_ips: dict[str, str] = field(default_factory=dict)
    """IP -> the comment naming it, from the comments above `services:` (`# Core Instance (GH200 - 1.2.3.4)`):
    the machine the file was deployed on, so a URL to that IP and a port is a service of this file."""


def interpolate(text: str, known: dict[str, str] | None = None) -> Interpolated:
    """Compose interpolation with every variable unset; `known` supplies inferred values."""
    unresolved: list[str] = []
    defaults: list[tuple[str, str]] = []
    out = _interpolate(text, known or {}, unresolved, defaults)
    return Interpolated(out, tuple(dict.fromkeys(unresolved)), tuple(dict.fromkeys(defaults)))


def _interpolate(text: str, known: dict[str, str], unresolved: list[str], defaults: list[tuple[str, str]]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing(text, i + 2)
            if end < 0:
                out.append(text[i:])
                break
            out.append(_expression(text[i + 2 : end], known, unresolved, defaults))
            i = end + 1
        else:
            m = ENV_NAME.match(text, i + 1)
            if m is None:
                out.append(ch)
                i += 1
                continue
            out.append(_lookup(m.group(0), None, known, unresolved, defaults))
            i = m.end()
    return "".join(out)


def _closing(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _expression(expr: str, known: dict[str, str], unresolved: list[str], defaults: list[tuple[str, str]]) -> str:
    m = ENV_NAME.match(expr)
    if m is None:
        unresolved.append(expr)
        return "${" + expr + "}"
    name, rest = m.group(0), expr[m.end() :]
    for op in (":-", "-"):
        if rest.startswith(op):
            default = _interpolate(rest[len(op) :], known, unresolved, defaults)
            return _lookup(name, default, known, unresolved, defaults)
    if rest.startswith((":+", "+")):
        return ""  # unset: the alternative value is not used
    return _lookup(name, None, known, unresolved, defaults)  # plain, or :? / ? (required): unresolved


def _lookup(name: str, default: str | None, known: dict[str, str], unresolved: list[str], defaults: list[tuple[str, str]]) -> str:
    if default is not None:
        defaults.append((name, default))
        return default
    if name in known:
        defaults.append((name, known[name]))
        return known[name]
    unresolved.append(name)
    return "${" + name + "}"


def scalar(value: Any, known: dict[str, str] | None = None) -> Interpolated:
    """Interpolate a YAML scalar as compose would (numbers and booleans become their text)."""
    if isinstance(value, bool):
        return Interpolated("true" if value else "false")
    if value is None:
        return Interpolated("")
    if isinstance(value, (int, float)):
        return Interpolated(str(value))
    return interpolate(str(value), known)


def collect_defaults(value: Any, into: dict[str, set[str]]) -> None:
    """Record every `${VAR:-default}` found anywhere in `value` (for inferring unset variables)."""
    if isinstance(value, dict):
        for v in value.values():
            collect_defaults(v, into)
    elif isinstance(value, list):
        for v in value:
            collect_defaults(v, into)
    elif isinstance(value, str) and "$" in value:
        for name, default in interpolate(value).defaults:
            into.setdefault(name, set()).add(default)


def read_compose(path: Path, display: str) -> ComposeFile:
    """Parse one compose file; raise `ComposeError` when it is not a readable compose file."""
    try:
        docs = [d for d in load_documents(load_text(path.read_bytes())) if d.data is not None]
    except YamlProblem as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ComposeError(f"{display}{where}: {exc.message}") from None
    except OSError as exc:
        raise ComposeError(f"{display}: cannot read: {exc.strerror}") from None
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise ComposeError(f"{display}: expected one YAML mapping with a `services:` key")
    doc = docs[0]
    services = doc.data.get("services")
    if not isinstance(services, dict):
        raise ComposeError(f"{display}: no `services:` mapping")
    out = ComposeFile(display)
    out.host_ips = _header_ips(path.read_text(encoding="utf-8", errors="replace"))
    vols = doc.data.get("volumes")
    out.volumes = dict(vols) if isinstance(vols, dict) else {}
    for name, raw in services.items():
        body = raw if isinstance(raw, dict) else {}
        out.services.append(ComposeService(display, str(name), body, doc.line_of(("services", name))))
    return out


def _header_ips(text: str) -> dict[str, str]:
    """IPs named in the comment lines before `services:`, with the comment that names them."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("services:"):
            break
        stripped = line.strip()
        if stripped.startswith("#"):
            for ip in ipv4_literals(stripped):
                found.setdefault(ip, stripped.lstrip("# ").strip())
    return found
