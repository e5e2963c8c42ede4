"""Rendering: a construct tree -> `{relative path: YAML text}`. Pure; nothing touches disk.

One resource per file, named `<Kind>-<name>.yaml` inside the folder its construct chose. Each
construct writes its objects' text as it emits them (`SophiaConstruct._emit`, with `yamlout`:
sorted keys, so the same tree always gives the same bytes); this collects the texts, refuses two
objects for one file and sorts the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sophia.errors import CompileError, Problem

if TYPE_CHECKING:
    from sophia.constructs._base import SophiaConstruct


def render(root: SophiaConstruct) -> dict[str, str]:
    """Every object of the tree as `{folder/Kind-name.yaml: text}` (constructs render as they emit)."""
    files: dict[str, str] = {}
    clashes: list[Problem] = []
    for path, text in root.drain_rendered():
        if path in files:
            clashes.append(Problem(path, None, "", "two objects would be written to the same file",
                                   "give one of them another name"))
            continue
        files[path] = text
    if clashes:
        raise CompileError(clashes)
    return dict(sorted(files.items()))
