"""The PR workflow: valid YAML, every action pinned by commit SHA, and the checks it promises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github/workflows/pr.yml"


def _steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def test_every_action_is_pinned_by_commit_sha() -> None:
    uses = [step["uses"] for step in _steps() if "uses" in step]
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref


def test_it_runs_the_promised_checks() -> None:
    runs = "\n".join(step.get("run", "") for step in _steps())
    for command in ("make test", "sophia check", "sophia validate dist", "make checkov", "git diff --exit-code -- dist/",
                    "sophia diff --against", "--format markdown"):
        assert command in runs, command
    assert "kubeconform -strict" in runs
    assert "sha256sum --check" in runs, "kubeconform's download is checksum-verified"
    assert "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" in runs, "CRDs-catalog layout"


def test_pre_commit_runs_synth_and_validate() -> None:
    hooks = [h["id"] for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"] for h in repo["hooks"]]
    assert {"sophia-synth", "sophia-validate"} <= set(hooks)
