"""The service graph of one environment: addresses, start-up order and cycles.

Every connection between services is declared once, as a dependency. From that one fact this
module derives the address a service is given (a cluster DNS name, never an IP), the sync wave
of each service and application, and a clear error when the declarations form a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from sophia.errors import Problem
from sophia.model.loader import Env, Service
from sophia.model.models import Dependency

CLUSTER_DOMAIN = "svc.cluster.local"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    port_name: str
    port: int
    env: str
    value: str
    """What the variable holds: the URL, host, port or host:port (the dependency's format)."""


def host_of(target: Service) -> str:
    return f"{target.name}.{target.namespace}.{CLUSTER_DOMAIN}"


def address(dep: Dependency, target: Service) -> tuple[str, int, str]:
    """(port name, port, value) of one dependency: the value in the dependency's format."""
    port_name = dep.port or next(iter(target.spec.ports))
    port = target.spec.ports[port_name]
    host = host_of(target)
    if dep.format == "host":
        value = host
    elif dep.format == "port":
        value = str(port.port)
    elif dep.format == "host-port":
        value = f"{host}:{port.port}"
    else:
        value = f"{dep.scheme or port.scheme}://{host}:{port.port}{dep.path or ''}"
    return port_name, port.port, value


def edges(env: Env) -> list[Edge]:
    """Every declared dependency of the environment, resolved to a port and the value injected."""
    out: list[Edge] = []
    for name, svc in env.services.items():
        for dep in svc.spec.dependencies:
            port_name, port, value = address(dep, env.services[dep.service])
            out.append(Edge(name, dep.service, port_name, port, dep.variable, value))
    return out


def find_cycles(env: Env) -> list[Problem]:
    """One problem per dependency cycle, naming the services around it."""
    graph = {n: sorted({d.service for d in s.spec.dependencies}) for n, s in env.services.items()}
    problems: list[Problem] = []
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = graph.get(node, [])
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    cycle = path[path.index(child):] + [child]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        file, line = env.locate(node, "dependencies")
                        problems.append(Problem(
                            file, line, f"spec.services.{node}.dependencies",
                            "dependency cycle: " + " -> ".join(cycle),
                            "services cannot wait for each other to start; remove one of these dependencies",
                        ))
                elif not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return problems


def application_waves(env: Env, extra: tuple[tuple[str, str], ...] = ()) -> dict[str, int]:
    """Sync wave of each application: after every application its services depend on.

    Applications are ordered on the graph between applications (an edge where a service of one
    depends on a service of another). Applications on a cycle of that graph share a wave.
    """
    apps = sorted({s.spec.application for s in env.services.values()} | {a for pair in extra for a in pair})
    graph: dict[str, set[str]] = {a: set() for a in apps}
    for a, b in extra:
        if a != b:
            graph[a].add(b)
    for e in edges(env):
        a, b = env.services[e.source].spec.application, env.services[e.target].spec.application
        if a != b:
            graph[a].add(b)
    # reachability closure, then components of mutually reachable applications
    reach = {a: _reachable(graph, a) for a in apps}
    component = {a: min([a] + [b for b in reach[a] if a in reach[b]]) for a in apps}
    waves: dict[str, int] = {}

    def wave(a: str, seen: frozenset[str] = frozenset()) -> int:
        c = component[a]
        if c in waves:
            return waves[c]
        members = [x for x in apps if component[x] == c]
        below = {component[t] for m in members for t in graph[m]} - {c}
        w = 1 + max((wave(t, seen | {c}) for t in sorted(below)), default=-1)
        waves[c] = w
        return w

    return {a: wave(a) for a in apps}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(graph[n])
    return seen
