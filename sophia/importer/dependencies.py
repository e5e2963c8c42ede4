"""Dependencies: references and `depends_on` -> declared dependencies (once every service has its final
name and ports), cycles broken, in-cluster addresses a dependency cannot carry left out.
"""

from __future__ import annotations

from typing import Any

from sophia.importer.mapped import KNOWN_IMAGES, Mapped
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
    entry = services[m.final or ""]
    file_defs = by_file[m.src.file]
    env: dict[str, str] = entry.get("env", {})
    secrets: dict[str, Any] = entry.get("secrets", {})
    deps: list[dict[str, str]] = []
    targets: set[str] = set()

    def target_of(host: str, where: str | None = None) -> tuple[str | None, Mapped | None]:
        other = by_file[where].get(host) if where else file_defs.get(host)
        if other is None and where is None and host in services and host != m.final:
            # Not a service of this file, but exactly the name of an imported service (e.g. `prometheus`
            # in a file that expects the monitoring stack of another file on the same network).
            other = next((d for defs in by_file.values() for d in defs.values() if d.final == host), None)
            if other is not None:
                m.note("cross-file-reference", f"{host} is not a service of {m.src.file}; taken as the imported "
                       f"service {host} (same name)")
        if other is None or other is m:
            return None, None
        return other.final, other

    wanted: list[str] = []
    for ref in m.refs:
        name, host, scheme = ref.env, ref.host, ref.scheme
        final, other = target_of(host, ref.where)
        if other is None:
            continue
        if final is None:
            m.flag("dependency-not-imported", f"{name} points at {host}, which was not imported")
            continue
        if final == m.final:
            continue
        tentry = services[final]
        tports = tentry.setdefault("ports", {})
        first_port = next(iter(tports.values()))["port"] if tports else None
        port = ref.port or first_port or KNOWN_IMAGES.get(other.repository or "", {}).get("port")
        if port is None:
            m.note("dependency-skipped", f"{name} points at {host} without a port, and {final} has none")
            continue
        before = set(tports)
        pname = named_port(tports, port, scheme=scheme if scheme in ("redis", "postgresql", "mysql", "mongodb", "amqp") else None)
        if pname not in before:
            other_primary = tentry
            if other_primary.get("type") == "worker":
                other_primary["type"] = "web"
            m.note("port-added", f"{final} gets port {port} ({pname}) because {name} points at it")
        if name in env and ref.form in ("host", "host-port"):
            del env[name]
            deps.append({"env": name, "format": ref.form, "port": pname, "service": final})
            m.carried.add(name)
            targets.add(final)
            m.note("host-to-dependency", f"{name}={ref.text} became a dependency on {final} (format: {ref.form}; the "
                   f"network policy opens its port {pname})")
        elif name in env and (ref.exact or ref.path is not None):
            del env[name]
            edge = {"env": name, "port": pname, "service": final}
            own = tports[pname].get("scheme", "http")
            if scheme != own:
                edge["scheme"] = scheme
            if not ref.exact and ref.path is not None:
                edge["path"] = ref.path
            deps.append(edge)
            m.carried.add(name)
            targets.add(final)
            shown = f"{scheme}://{host}:{port}" + (edge.get("path") or "")
            m.note("url-to-dependency", f"{name}={shown} became a dependency on {final}")
        else:
            if name in env and host != final:
                env[name] = env[name].replace(f"://{host}", f"://{final}", 1)
            wanted.append(final)
            m.note("url-kept", f"{name} kept as written (credentials, a query or jdbc: a dependency URL cannot carry); "
                   f"dependency on {final} added for network access")
    for dep in m.depends_on:
        final, other = target_of(dep)
        if other is None:
            m.note("dependency-skipped", f"depends_on {dep}: no such service in {m.src.file}")
            continue
        if final is None:
            m.flag("dependency-not-imported", f"depends_on {dep}, which was not imported")
            continue
        wanted.append(final)
    taken = set(env) | set(secrets) | {d["env"] for d in deps}
    for final in dict.fromkeys(wanted):
        if final in targets or final == m.final:
            continue
        if not services[final].get("ports"):
            m.note("dependency-skipped", f"{final} has no ports, so a dependency cannot be declared")
            continue
        var = final.upper().replace("-", "_") + "_URL"
        if var in taken:
            var = final.upper().replace("-", "_") + "_SERVICE_URL"
        if var in taken:
            continue
        taken.add(var)
        targets.add(final)
        deps.append({"env": var, "service": final})
    if deps:
        entry["dependencies"] = deps
    if env:
        entry["env"] = env
    elif "env" in entry:
        del entry["env"]


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
