"""Rendering: a construct tree -> `{relative path: YAML text}`. Pure; nothing touches disk.

One resource per file, named `<Kind>-<name>.yaml` inside the folder of the Argo CD application
that syncs it. sophia's constructs write each object's text as they emit it (`SophiaConstruct._emit`,
with `yamlout`: sorted keys, so the same tree always gives the same bytes); this collects those
texts, then asks cdk8s for the objects of every other construct in the tree, chart by chart
(`ApplicationChart.foreign_manifests`), and writes them the same way. Nothing is dropped silently:
a chart outside every application folder that holds objects, or two objects for one file, is an
error, located where a person defined one of them (a hand-written manifest's file and line, the
extension that added it) rather than at the file both would be written to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import cdk8s

from sophia import yamlout
from sophia.constructs._base import Origin, RenderedNode, file_name
from sophia.constructs.application_chart import ApplicationChart
from sophia.errors import CompileError, Problem

Source = Origin | ApplicationChart | None
"""Who made an object: a person (`Origin`: a hand-written manifest), a foreign construct of that
application chart (an extension's, say), or sophia itself (None)."""


def render(root: RenderedNode, charts: Iterable[Any] = ()) -> dict[str, str]:
    """Every object of the tree as `{folder/Kind-name.yaml: text}`.

    `charts` are all the cdk8s charts of the app (`App.charts`): sophia's application charts and
    any chart someone else placed in the tree.
    """
    files: dict[str, str] = {}
    origins: dict[str, Source] = {}
    problems: list[Problem] = []
    for path, text, origin in [*root.drain_rendered(), *_foreign(root, charts, problems)]:
        if path in files:
            problems.append(_clash(path, origins[path], origin))
            continue
        files[path] = text
        origins[path] = origin
    if problems:
        raise CompileError(problems)
    return dict(sorted(files.items()))


def _clash(path: str, first: Source, second: Source) -> Problem:
    """Two objects for the file `path`, each sophia's own (None), a person's (`Origin`) or a foreign
    construct's of an application chart: located at a person's, with a hint that fits who made them."""
    kind, _, name = path.rsplit("/", 1)[-1].removesuffix(".yaml").partition("-")
    ref = f"{kind}/{name}"
    one, other = (_located(o, kind, name) if o is not None else None for o in (first, second))
    if one is None and other is None:
        return Problem(path, None, "", "two objects would be written to the same file", "give one of them another name")
    if one is None or other is None:
        mine = one or other
        assert mine is not None
        return Problem(mine.file, mine.line, ref, f"sophia already generates this object ({path}); {mine.what} may not "
                       "define it again", "to change an object sophia generates, give its service `patches:` (RFC 6902 "
                       "operations on it; environments/README.md, escape hatches) instead; to add another object, "
                       "give this one another name")
    where = one.file if one.line is None else f"{one.file}:{one.line}"
    return Problem(other.file, other.line, ref, f"{path} would be written twice: {one.what} ({where}) defines it too",
                   "give one of them another name")


def _located(origin: Origin | ApplicationChart, kind: str, name: str) -> Origin:
    """`origin`, or where the foreign object `kind`/`name` of a chart comes from (only asked on a clash)."""
    if isinstance(origin, Origin):
        return origin
    paths = [c.node.path for c in origin.node.find_all()
             if isinstance(c, cdk8s.ApiObject) and c.kind == kind and c.name == name]
    construct = f"construct {paths[0]}" if paths else f"a cdk8s construct of chart {origin.node.path}"
    if len(origin.extensions) == 1:
        [(extension, file)] = origin.extensions.items()
        return Origin(file, None, f"the extension {extension} ({construct})")
    if origin.extensions:
        return Origin(paths[0] if paths else origin.node.path, None,
                      f"one of the extensions {', '.join(origin.extensions)} ({construct})")
    return Origin(paths[0] if paths else origin.node.path, None, f"the cdk8s {construct}")


def _foreign(root: RenderedNode, charts: Iterable[Any], problems: list[Problem]) -> Iterator[tuple[str, str, Source]]:
    """(path, text, origin) of the objects that cdk8s constructs, not sophia's, put in the tree."""
    for node in root.nodes():
        if isinstance(node, ApplicationChart):
            yield from _placed(node, node.foreign_manifests(), problems)
    for chart in charts:
        if isinstance(chart, ApplicationChart):
            continue
        owner = next((s for s in reversed(chart.node.scopes) if isinstance(s, ApplicationChart)), None)
        manifests = [dict(m) for m in chart.to_json()]
        if owner is not None:
            yield from _placed(owner, manifests, problems)
        elif manifests:
            problems.append(Problem(
                chart.node.path, None, "",
                f"the chart holds {len(manifests)} object(s) but is in no Argo CD application's folder, so nothing would sync them",
                "create it under the application's chart (the `chart` an extension receives)",
            ))


def _placed(chart: ApplicationChart, manifests: list[dict[str, Any]], problems: list[Problem]) -> Iterator[tuple[str, str, Source]]:
    for manifest in manifests:
        name = (manifest.get("metadata") or {}).get("name")
        if isinstance(manifest.get("kind"), str) and isinstance(name, str) and name:
            yield f"{chart.folder}/{file_name(manifest)}", yamlout.dump(manifest), chart
        else:
            problems.append(Problem(chart.folder, None, "", f"a cdk8s object without kind or metadata.name: {manifest!r:.200}"))
