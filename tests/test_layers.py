"""Dependencies point one way: every module of sophia/ is read with `ast` and every import counted
(at any level: inside functions and under TYPE_CHECKING too). No cycle, and no import against the
layer order below.

Layers, lowest first. A module may import its own layer and the layers below it, never one above:

* base -- modules that import no other layer: `runtime` (starts the jsii runtime) and `forking`
  (the forked helper), process glue at the bottom so that the pipeline (`runtime`) and the checks
  (`forking`) may both use it; `k8s/`, the generated TypedDicts of Kubernetes objects, which any
  layer may import under TYPE_CHECKING; the root package (empty).
* input -- `model/` (read, model, load), `values` (what an IP, a secret, a quantity, a name is),
  `errors`.
* build -- `graph`, `capacity`, `cluster`, `build`, `constructs/`, and `yamlout`: a construct writes
  each object's text as it emits it (so a large synth never holds every object as dicts), so the
  YAML writer sits with the constructs, below `render`, which only collects the texts.
* render -- `render`, `reports`.
* write -- `write`, `pipeline` (the seams in order, the only caller of the write).
* checks -- `validate/`, `diff/`, `importer/` and `freshness` (`sophia check`: a fresh compile
  against dist/) stand beside the pipeline: each may import any layer above, none imports another
  check, and nothing below imports them.
* day two -- `promote/` (`sophia release set`, `promote`, `rollback`): edits the environment files,
  synthesizes through the pipeline and prints the `diff` it made, so it sits above the checks.
* entry -- `cli`, `cdk8s_app` (the body of main.py), `__main__`: the entry points, on top. (The
  CLI also loads the other packages' commands by name, with importlib: those are not `import`
  statements.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOPHIA = Path(__file__).resolve().parents[1] / "sophia"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("sophia", "sophia.runtime", "sophia.forking", "sophia.k8s")),
    ("input", ("sophia.errors", "sophia.values", "sophia.cron", "sophia.model")),
    ("build", ("sophia.yamlout", "sophia.graph", "sophia.capacity", "sophia.cluster", "sophia.build", "sophia.constructs",
               "sophia.extensions")),
    ("render", ("sophia.render", "sophia.reports")),
    ("write", ("sophia.write", "sophia.pipeline")),
    ("checks", ("sophia.validate", "sophia.diff", "sophia.importer", "sophia.freshness")),
    ("day two", ("sophia.promote",)),
    ("entry", ("sophia.cli", "sophia.cdk8s_app", "sophia.__main__")),
)
CHECKS = "checks"

Import = tuple[str, int, str]
"""(importing module, line, imported module)."""


def modules(root: Path = SOPHIA) -> dict[str, Path]:
    """Every module of the package by dotted name (`sophia.model.loader`; a package by its own name)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> list[Import]:
    """The sophia modules `name` imports, each with the line of its import statement."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from pkg import mod` imports the module pkg.mod; `from mod import name`, the module mod
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        found.extend((name, node.lineno, t) for t in dict.fromkeys(targets) if t in known and t != name)
    return found


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, group) of a module: the group is the longest prefix listed for it."""
    best: tuple[int, str] | None = None
    for index, (_, groups) in enumerate(LAYERS):
        for group in groups:
            matches = module == group or (group != "sophia" and module.startswith(group + "."))
            if matches and (best is None or len(group) > len(best[1])):
                best = (index, group)
    if best is None:
        raise LookupError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return best


def wrong_direction(edges: list[Import], files: dict[str, Path]) -> list[str]:
    """Every import against the layer order, as `file:line: a imports b: why`."""
    problems: list[str] = []
    for source, line, target in edges:
        (low, from_group), (high, to_group) = layer_of(source), layer_of(target)
        from_layer, to_layer = LAYERS[low][0], LAYERS[high][0]
        where = f"{files[source].relative_to(SOPHIA.parent)}:{line}: {source} imports {target}"
        if high > low:
            problems.append(f"{where}: the {from_layer} layer may not import the {to_layer} layer above it")
        elif from_layer == to_layer == CHECKS and from_group != to_group:
            problems.append(f"{where}: the checks stand beside each other ({from_group} may not import {to_group})")
    return problems


def cycles(edges: list[Import]) -> list[list[str]]:
    """Each group of modules that import each other (Tarjan's strongly connected components), as a
    path around one of its cycles."""
    graph: dict[str, list[str]] = {}
    for source, _, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph[node]:
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            members: set[str] = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                members.add(top)
                if top == node:
                    break
            if len(members) > 1:
                found.append(_path_around(min(members), members, graph))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path_around(start: str, members: set[str], graph: dict[str, list[str]]) -> list[str]:
    """The shortest cycle through `start` inside one strongly connected component."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for child in graph[node]:
            if child == start:
                return [*paths[node], start]
            if child in members and child not in paths:
                paths[child] = [*paths[node], child]
                todo.append(child)
    raise AssertionError("a strongly connected component without a cycle")


def _all_imports() -> tuple[list[Import], dict[str, Path]]:
    files = modules()
    known = set(files)
    return [edge for name, path in files.items() for edge in imports(name, path, known)], files


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for name in modules():
        try:
            layer_of(name)
        except LookupError as exc:
            unplaced.append(str(exc))
    assert unplaced == []


def test_no_import_cycle() -> None:
    edges, _ = _all_imports()
    assert [" -> ".join(cycle) for cycle in cycles(edges)] == []


def test_imports_follow_the_layers() -> None:
    edges, files = _all_imports()
    problems = wrong_direction(edges, files)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        pytest.param("sophia/model/loader.py", "from sophia.validate.rules_values import secret_problem\n",
                     "sophia/model/loader.py:1: sophia.model.loader imports sophia.validate.rules_values: "
                     "the input layer may not import the checks layer above it", id="input-imports-a-check"),
        pytest.param("sophia/constructs/_base.py", "def f():\n    from sophia.render import render\n",
                     "sophia/constructs/_base.py:2: sophia.constructs._base imports sophia.render: "
                     "the build layer may not import the render layer above it", id="inside-a-function"),
        pytest.param("sophia/pipeline.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sophia.cli import cli\n",
                     "sophia/pipeline.py:3: sophia.pipeline imports sophia.cli: "
                     "the write layer may not import the entry layer above it", id="under-type-checking"),
        pytest.param("sophia/diff/engine.py", "from sophia.validate import policy\n",
                     "sophia/diff/engine.py:1: sophia.diff.engine imports sophia.validate.policy: "
                     "the checks stand beside each other (sophia.diff may not import sophia.validate)", id="check-imports-a-check"),
    ],
)
def test_a_back_import_is_named(tmp_path: Path, source: str, target: str, expected: str) -> None:
    """The checker itself, on a copy of the package with one import added."""
    files = modules()
    path = tmp_path / source
    path.parent.mkdir(parents=True)
    path.write_text(target)
    name = ".".join(Path(source).with_suffix("").parts)
    edges = imports(name, path, set(files))
    assert wrong_direction(edges, {**files, name: SOPHIA.parent / source}) == [expected]


def test_a_cycle_is_named() -> None:
    edges = [("sophia.render", 1, "sophia.constructs._base"), ("sophia.constructs._base", 2, "sophia.render"),
             ("sophia.build", 3, "sophia.render")]
    assert cycles(edges) == [["sophia.constructs._base", "sophia.render", "sophia.constructs._base"]]
