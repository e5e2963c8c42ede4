"""Rendering: a construct tree -> `{relative path: YAML text}`. Pure; nothing touches disk.

One resource per file, named `<Kind>-<name>.yaml` inside the folder of the Argo CD application
that syncs it. sophia's constructs write each object's text as they emit it (`SophiaConstruct._emit`,
with `yamlout`: sorted keys, so the same tree always gives the same bytes); this collects those
texts, then asks cdk8s for the objects of every other construct in the tree, chart by chart
(`ApplicationChart.foreign_manifests`), and writes them the same way. Nothing is dropped silently:
a chart outside every application folder that holds objects, or two objects for one file, is an
error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sophia import yamlout
from sophia.constructs._base import RenderedNode, file_name
from sophia.constructs.application_chart import ApplicationChart
from sophia.errors import CompileError, Problem


def render(root: RenderedNode, charts: Iterable[Any] = ()) -> dict[str, str]:
    """Every object of the tree as `{folder/Kind-name.yaml: text}`.

    `charts` are all the cdk8s charts of the app (`App.charts`): sophia's application charts and
    any chart someone else placed in the tree.
    """
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for path, text in [*root.drain_rendered(), *_foreign(root, charts, problems)]:
        if path in files:
            problems.append(Problem(path, None, "", "two objects would be written to the same file",
                                    "give one of them another name"))
            continue
        files[path] = text
    if problems:
        raise CompileError(problems)
    return dict(sorted(files.items()))


def _foreign(root: RenderedNode, charts: Iterable[Any], problems: list[Problem]) -> Iterator[tuple[str, str]]:
    """(path, text) of the objects that cdk8s constructs, not sophia's, put in the tree."""
    for node in root.nodes():
        if isinstance(node, ApplicationChart):
            yield from _placed(node.folder, node.foreign_manifests(), problems)
    for chart in charts:
        if isinstance(chart, ApplicationChart):
            continue
        owner = next((s for s in reversed(chart.node.scopes) if isinstance(s, ApplicationChart)), None)
        manifests = [dict(m) for m in chart.to_json()]
        if owner is not None:
            yield from _placed(owner.folder, manifests, problems)
        elif manifests:
            problems.append(Problem(
                chart.node.path, None, "",
                f"the chart holds {len(manifests)} object(s) but is in no Argo CD application's folder, so nothing would sync them",
                "create it under the application's chart (the `chart` an extension receives)",
            ))


def _placed(folder: str, manifests: list[dict[str, Any]], problems: list[Problem]) -> Iterator[tuple[str, str]]:
    for manifest in manifests:
        name = (manifest.get("metadata") or {}).get("name")
        if isinstance(manifest.get("kind"), str) and isinstance(name, str) and name:
            yield f"{folder}/{file_name(manifest)}", yamlout.dump(manifest)
        else:
            problems.append(Problem(folder, None, "", f"a cdk8s object without kind or metadata.name: {manifest!r:.200}"))
