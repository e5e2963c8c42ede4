"""Rendering: a construct tree -> `{relative path: YAML text}`. Pure; nothing touches disk.

One resource per file, named `<Kind>-<name>.yaml` inside the folder its construct chose. Keys are
sorted and the text is written by `yamlout`, so the same tree always gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sophia import yamlout
from sophia.errors import CompileError, Problem

if TYPE_CHECKING:
    from sophia.constructs._base import SophiaConstruct


def to_yaml(manifest: dict[str, Any]) -> str:
    """The canonical text of one manifest."""
    return yamlout.dump(manifest)


def file_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['kind']}-{manifest['metadata']['name']}.yaml"


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
