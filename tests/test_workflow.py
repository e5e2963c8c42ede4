"""The workflows: valid, free of zizmor findings, every action pinned by commit SHA, and the checks they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
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


BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


def test_it_runs_the_promised_checks() -> None:
    runs = "\n".join(step.get("run", "") for step in _steps())
    for command in ("make check", "sophia crds fetch", "git diff --exit-code -- dist/", "sophia crds export",
                    "sophia diff --against", "--format markdown"):
        assert command in runs, command
    make_check = (ROOT / "Makefile").read_text().split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    for part in ("test", "lint", "checkov", "sophia check", "sophia validate dist"):
        assert part in make_check, part
    assert "kubeconform -strict" in runs
    assert "sha256sum --check" in runs, "kubeconform's download is checksum-verified"
    assert ".schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" in runs, "the schemas sophia exports"
    assert "-schema-location default" not in runs, "kubeconform's default location is a moving branch"


def test_no_input_comes_from_a_moving_branch() -> None:
    for step in _steps():
        if "uses" in step and step["uses"].startswith("actions/checkout@"):
            assert "repository" not in step.get("with", {}), "other repositories come by commit through crds.lock.yaml"
            assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_zizmor_finds_nothing(workflow: Path) -> None:
    """Not even the pedantic persona's findings (unexplained permissions, unnamed jobs, no concurrency limit)."""
    run = subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress", "--persona=pedantic", str(workflow)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No findings to report" in run.stdout + run.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_matches_the_github_workflow_schema(workflow: Path) -> None:
    run = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_pre_commit_runs_synth_and_validate() -> None:
    hooks = [h["id"] for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"] for h in repo["hooks"]]
    assert {"sophia-synth", "sophia-validate"} <= set(hooks)


def test_the_promote_workflow_moves_each_deploy_branch_to_a_commit_of_main_only() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/promote.yml").read_text())
    assert workflow[True]["push"] == {"branches": ["main"], "paths": ["environments/*.yaml"]}  # PyYAML reads `on` as True
    steps = workflow["jobs"]["deploy-branches"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0, "ancestry needs the whole history"
    script = steps[-1]["run"]
    assert '"$sophia" deploy-branches' in script and '"$sophia" pin-applications' in script
    assert script.index("git merge-base --is-ancestor") < script.index("pin-applications") < script.index("git -C \"$work\" push --force")
    assert workflow["jobs"]["deploy-branches"]["if"] == "github.ref == 'refs/heads/main'", "never from another branch"


def test_the_release_workflow_reads_the_whole_history() -> None:
    """`sophia release set` refuses a tag the source environment never ran, read from main's history."""
    steps = yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())["jobs"]["release"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
