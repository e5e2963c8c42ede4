"""Dependencies: references and `depends_on` -> declared dependencies (once every service has its final
name and ports), cycles broken, in-cluster addresses a dependency cannot carry left out.
"""

from __future__ import annotations

from typing import Any

from sophia.importer.mapped import KNOWN_IMAGES, Mapped, Ref
from sophia.importer.ports import named_port
from sophia.values import cluster_host


def compose_depends_on(raw: dict[str, Any]) -> list[str]:
    """The services `depends_on` names (list or mapping form)."""
    dep = raw.get("depends_on")
    if isinstance(dep, dict):
        return [str(k) for k in dep]
    if isinstance(dep, list):
        return [str(k) for k in dep]
    return []


def resolve_dependencies(m: Mapped, by_file: dict[str, dict[str, Mapped]], services: dict[str, dict[str, Any]]) -> None:
    """Turn a service's references and `depends_on` into declared dependencies, once every service has its
    final name and ports (a target gets the port a reference needs)."""
    edges = _Edges(m, by_file, services)
    for ref in m.refs:
        edges.reference(ref)
    for dep in m.depends_on:
        edges.depends_on(dep)
    edges.for_network_access()
    edges.write()


_DATA_SCHEMES = ("redis", "postgresql", "mysql", "mongodb", "amqp")
"""URL schemes that name a port after themselves when a reference adds it (`redis://cache` -> port `redis`)."""


class _Edges:
    """The dependencies of one service being resolved: its env values that become edges, and the services
    it only needs network access to."""

    def __init__(self, m: Mapped, by_file: dict[str, dict[str, Mapped]], services: dict[str, dict[str, Any]]) -> None:
        self.m = m
        self.by_file = by_file
        self.services = services
        self.entry = services[m.final or ""]
        self.env: dict[str, str] = self.entry.get("env", {})
        self.deps: list[dict[str, str]] = []
        self.targets: set[str] = set()
        """Services an edge already reaches."""
        self.wanted: list[str] = []
        """Services to reach for network access only (a URL kept as written, `depends_on`)."""

    def target_of(self, host: str, where: str | None = None) -> tuple[str | None, Mapped | None]:
        """(final service name, definition) a host names: a service of the same file (or of `where`), else an
        imported service of exactly that name; (None, None) when it names none or this service itself."""
        m = self.m
        other = self.by_file[where].get(host) if where else self.by_file[m.src.file].get(host)
        if other is None and where is None and host in self.services and host != m.final:
            # Not a service of this file, but exactly the name of an imported service (e.g. `prometheus`
            # in a file that expects the monitoring stack of another file on the same network).
            other = next((d for defs in self.by_file.values() for d in defs.values() if d.final == host), None)
            if other is not None:
                m.note("cross-file-reference", f"{host} is not a service of {m.src.file}; taken as the imported "
                       f"service {host} (same name)")
        if other is None or other is m:
            return None, None
        return other.final, other

    def reference(self, ref: Ref) -> None:
        """An env value naming another service: an edge carrying the variable when a dependency can hold its
        value, else network access only (the value kept, pointed at the service's final name)."""
        m, name, host, scheme = self.m, ref.env, ref.host, ref.scheme
        final, other = self.target_of(host, ref.where)
        if other is None:
            return
        if final is None:
            m.flag("dependency-not-imported", f"{name} points at {host}, which was not imported")
            return
        if final == m.final:
            return
        port_name = self._target_port(ref, final, other)
        if port_name is None:
            return
        env = self.env
        if name in env and ref.form in ("host", "host-port"):
            del env[name]
            self._carry(name, final, {"env": name, "format": ref.form, "port": port_name, "service": final})
            m.note("host-to-dependency", f"{name}={ref.text} became a dependency on {final} (format: {ref.form}; the "
                   f"network policy opens its port {port_name})")
        elif name in env and (ref.exact or ref.path is not None):
            del env[name]
            edge = {"env": name, "port": port_name, "service": final}
            own = self.services[final]["ports"][port_name].get("scheme", "http")
            if scheme != own:
                edge["scheme"] = scheme
            if not ref.exact and ref.path is not None:
                edge["path"] = ref.path
            self._carry(name, final, edge)
            port = self.services[final]["ports"][port_name]["port"]
            shown = f"{scheme}://{host}:{port}" + (edge.get("path") or "")
            m.note("url-to-dependency", f"{name}={shown} became a dependency on {final}")
        else:
            if name in env and host != final:
                env[name] = env[name].replace(f"://{host}", f"://{final}", 1)
            self.wanted.append(final)
            m.note("url-kept", f"{name} kept as written (credentials, a query or jdbc: a dependency URL cannot carry); "
                   f"dependency on {final} added for network access")

    def _target_port(self, ref: Ref, final: str, other: Mapped) -> str | None:
        """The name of the target's port a reference reaches, added to the target when missing (a worker that
        gains a port becomes a web service); None, noted, when no port is known."""
        target = self.services[final]
        ports = target.setdefault("ports", {})
        first_port = next(iter(ports.values()))["port"] if ports else None
        port = ref.port or first_port or KNOWN_IMAGES.get(other.repository or "", {}).get("port")
        if port is None:
            self.m.note("dependency-skipped", f"{ref.env} points at {ref.host} without a port, and {final} has none")
            return None
        before = set(ports)
        port_name = named_port(ports, port, scheme=ref.scheme if ref.scheme in _DATA_SCHEMES else None)
        if port_name not in before:
            if target.get("type") == "worker":
                target["type"] = "web"
            self.m.note("port-added", f"{final} gets port {port} ({port_name}) because {ref.env} points at it")
        return port_name

    def _carry(self, variable: str, final: str, edge: dict[str, str]) -> None:
        self.deps.append(edge)
        self.m.carried.add(variable)
        self.targets.add(final)

    def depends_on(self, dep: str) -> None:
        """A `depends_on` entry: network access to that service."""
        final, other = self.target_of(dep)
        if other is None:
            self.m.note("dependency-skipped", f"depends_on {dep}: no such service in {self.m.src.file}")
        elif final is None:
            self.m.flag("dependency-not-imported", f"depends_on {dep}, which was not imported")
        else:
            self.wanted.append(final)

    def for_network_access(self) -> None:
        """A dependency (into a variable of its own) on each wanted service no edge reaches yet."""
        secrets: dict[str, Any] = self.entry.get("secrets", {})
        taken = set(self.env) | set(secrets) | {d["env"] for d in self.deps}
        for final in dict.fromkeys(self.wanted):
            if final in self.targets or final == self.m.final:
                continue
            if not self.services[final].get("ports"):
                self.m.note("dependency-skipped", f"{final} has no ports, so a dependency cannot be declared")
                continue
            var = final.upper().replace("-", "_") + "_URL"
            if var in taken:
                var = final.upper().replace("-", "_") + "_SERVICE_URL"
            if var in taken:
                continue
            taken.add(var)
            self.targets.add(final)
            self.deps.append({"env": var, "service": final})

    def write(self) -> None:
        """Store the dependencies and what is left of env on the service's catalogue entry."""
        if self.deps:
            self.entry["dependencies"] = self.deps
        if self.env:
            self.entry["env"] = self.env
        elif "env" in self.entry:
            del self.entry["env"]


def guard_cluster_addresses(m: Mapped, entry: dict[str, Any]) -> None:
    """Leave out plain env values that name an in-cluster host (a dependency must carry those)."""
    env: dict[str, str] = entry.get("env", {})
    node_name_vars = set(KNOWN_IMAGES.get(m.repository or "", {}).get("node_name_vars", []))
    deps = {d["service"] for d in entry.get("dependencies", [])}
    for var in sorted(env):
        host = cluster_host(var, env[var])
        if host is None:
            continue
        value = env.pop(var)
        if var in node_name_vars:
            m.note("node-name-dropped", f"{var}={value} is the image's cluster node name, not an address; left out "
                   "(it defaults to the pod's host name), because sophia reads a bare *_HOSTNAME value as an address")
        elif host in deps:
            m.flag("cluster-address", f"{var}={value}: a dependency on {host} gives network access, but its URL "
                   "cannot carry this path or scheme, so the variable was left out: set it by hand")
        else:
            m.flag("cluster-address", f"{var}={value} names {host!r}, which is no imported service: left out")
    if not env and "env" in entry:
        del entry["env"]


def break_cycles(primaries: dict[str, Mapped], services: dict[str, dict[str, Any]]) -> None:
    """Drop the dependency that closes each cycle (flagged), depth first from the first service by name."""
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        deps = services[node].get("dependencies", [])
        keep = []
        for d in deps:
            child = d["service"]
            if state.get(child) == 1:
                if d["env"] in primaries[node].carried:
                    primaries[node].flag("dependency-cycle-variable", f"dependency on {child} dropped: it closes a "
                                         f"cycle, and {d['env']}, which the compose file set, is lost with it")
                else:
                    primaries[node].flag("dependency-cycle", f"dependency on {child} dropped: it closes a cycle")
                continue
            if not state.get(child):
                visit(child)
            keep.append(d)
        if deps:
            if keep:
                services[node]["dependencies"] = keep
            else:
                del services[node]["dependencies"]
        state[node] = 2

    for name in sorted(services):
        if not state.get(name):
            visit(name)
