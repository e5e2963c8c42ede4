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
    """Every manifest of the tree as `{folder/Kind-name.yaml: text}`.

    Each manifest dict is released from the tree as soon as it is text, which keeps the peak
    memory of a large synth near the size of the output rather than twice that.
    """
    files: dict[str, str] = {}
    clashes: list[Problem] = []
    for folder, manifest in root.drain_manifests():
        path = f"{folder}/{file_name(manifest)}"
        if path in files:
            clashes.append(Problem(path, None, "", "two objects would be written to the same file",
                                   "give one of them another name"))
            continue
        files[path] = to_yaml(manifest)
    if clashes:
        raise CompileError(clashes)
    return dict(sorted(files.items()))
