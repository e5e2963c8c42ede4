"""Rendering: a construct tree -> `{relative path: YAML text}`. Pure; nothing touches disk.

One resource per file, named `<Kind>-<name>.yaml` inside the folder its construct chose.
Keys are sorted and the YAML is written by libyaml, so the same tree always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

import yaml

from sophia.constructs._base import SophiaConstruct
from sophia.errors import CompileError, Problem

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _BlockDumper(_Dumper):  # type: ignore[misc]  # libyaml's dumper class is untyped
    """Writes multi-line strings (configs, Helm values) as literal blocks a reviewer can read."""


def _str(dumper: Any, value: str) -> Any:
    if "\n" in value.rstrip("\n") and not any(line != line.rstrip() for line in value.splitlines()):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str)


def to_yaml(manifest: dict[str, Any]) -> str:
    """The canonical text of one manifest."""
    return str(yaml.dump(manifest, Dumper=_BlockDumper, sort_keys=True, default_flow_style=False,
                         allow_unicode=True, width=120))


def file_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['kind']}-{manifest['metadata']['name']}.yaml"


def render(root: SophiaConstruct) -> dict[str, str]:
    """Every manifest of the tree as `{folder/Kind-name.yaml: text}`."""
    files: dict[str, str] = {}
    clashes: list[Problem] = []
    for folder, manifest in root.iter_manifests():
        path = f"{folder}/{file_name(manifest)}"
        if path in files:
            clashes.append(Problem(path, None, "", "two objects would be written to the same file",
                                   "give one of them another name"))
            continue
        files[path] = to_yaml(manifest)
    if clashes:
        raise CompileError(clashes)
    return dict(sorted(files.items()))
