"""The `workloads` fixture (tests/fixtures/envs/workloads): the pod around the main container (init
containers, sidecars, preStop, spread, pod labels) and the daemonset and job types, each field once.
Compiled once for the tests that read its output; copied for the ones that edit it."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.errors import SpecError
from sophia.pipeline import compile_tree

WORKLOADS = Path(__file__).parent / "fixtures" / "envs" / "workloads"


@functools.cache
def _compiled() -> dict[str, Any]:
    return {p: yaml.safe_load(t) for p, t in compile_tree(WORKLOADS).items() if p.endswith(".yaml")}


def compiled(path: str) -> Any:
    """One object of the compiled fixture, by its path under dist/ (`staging/apps/Deployment-api.yaml`)."""
    return _compiled()[path]


def pod(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod template of a workload."""
    spec = obj["spec"]
    return spec["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else spec["template"]  # type: ignore[no-any-return]


def copy(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the fixture with each (file, old, new) edit made once."""
    root = tmp_path / "environments"
    shutil.copytree(WORKLOADS, root)
    for file, old, new in edits:
        path = root / file
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} is not once in {file}"
        path.write_text(text.replace(old, new))
    return root


def compile_copy(tmp_path: Path, *edits: tuple[str, str, str]) -> dict[str, Any]:
    """The objects of an edited copy, by path."""
    return {p: yaml.safe_load(t) for p, t in compile_tree(copy(tmp_path, *edits)).items() if p.endswith(".yaml")}


def errors(tmp_path: Path, *edits: tuple[str, str, str]) -> str:
    """What sophia says about an edited copy it refuses (loading or compiling), without the last line's count."""
    with pytest.raises(SpecError) as info:
        compile_tree(copy(tmp_path, *edits))
    return "\n".join(info.value.render().splitlines()[:-1])
