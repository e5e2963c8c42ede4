"""The committed dist/: fresh, deterministic, atomic, identical through both entry points."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sophia.pipeline import compile_tree
from sophia.write import read_tree

ROOT = Path(__file__).resolve().parents[1]
SOPHIA = [sys.executable, "-m", "sophia"]


def _tree(path: Path) -> dict[str, bytes]:
    return read_tree(path)


def test_committed_dist_equals_a_fresh_synth() -> None:
    fresh = {p: t.encode() for p, t in compile_tree(ROOT / "environments").items()}
    committed = _tree(ROOT / "dist")
    stale = sorted(p for p in set(fresh) | set(committed) if fresh.get(p) != committed.get(p))
    assert not stale, f"dist/ is stale ({len(stale)} files, e.g. {stale[:5]}); run `make synth` and commit"


def test_synth_is_byte_identical_from_another_directory_and_environment(tmp_path: Path) -> None:
    out_a, out_b = tmp_path / "a", tmp_path / "b"
    env = {**os.environ, "LANG": "C", "TZ": "Pacific/Chatham", "PYTHONHASHSEED": "123"}
    subprocess.run([*SOPHIA, "synth", "--environments", str(ROOT / "environments"), "--out", str(out_a)],
                   check=True, cwd=tmp_path, env=env, capture_output=True)
    env["PYTHONHASHSEED"] = "999"
    subprocess.run([*SOPHIA, "synth", "--environments", "environments", "--out", str(out_b)],
                   check=True, cwd=ROOT, env=env, capture_output=True)
    assert _tree(out_a) == _tree(out_b)
    assert _tree(out_a) == _tree(ROOT / "dist")


def test_removed_service_files_disappear(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    shutil.copytree(ROOT / "tests/fixtures/envs/basic", envs)
    out = tmp_path / "dist"
    subprocess.run([*SOPHIA, "synth", "--environments", str(envs), "--out", str(out)], check=True, capture_output=True)
    assert (out / "staging/apps/CronJob-nightly-report.yaml").exists()
    staging = envs / "staging.yaml"
    staging.write_text(staging.read_text().replace("  services:\n", "  services:\n    nightly-report: {enabled: false}\n"))
    subprocess.run([*SOPHIA, "synth", "--environments", str(envs), "--out", str(out)], check=True, capture_output=True)
    assert not (out / "staging/apps/CronJob-nightly-report.yaml").exists()
    assert not (out / "staging/apps/ServiceAccount-nightly-report.yaml").exists()
    assert (out / "staging/apps/Deployment-api.yaml").exists()


def test_failing_synth_leaves_dist_untouched(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", envs)
    out = tmp_path / "dist"
    shutil.copytree(ROOT / "dist", out)
    before = _tree(out)
    (envs / "catalog.yaml").write_text((envs / "catalog.yaml").read_text().replace("replicas: 2", "replicas: two", 1))
    proc = subprocess.run([*SOPHIA, "synth", "--environments", str(envs), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Input should be a valid integer" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _tree(out) == before


def test_no_side_files_in_argo_cd_folders() -> None:
    for path in (ROOT / "dist").rglob("*"):
        if path.is_file() and path.parent.parent != ROOT / "dist":
            assert path.suffix == ".yaml", f"{path} is not a manifest but sits in a folder Argo CD reads"


def _cdk8s_project(tmp_path: Path) -> Path:
    """A copy of the project's cdk8s app (cdk8s.yaml, main.py, environments/) that `cdk8s synth` can run."""
    if not (ROOT / "node_modules/.bin/cdk8s").exists():
        pytest.skip("node_modules missing: run `make synth` once (npm ci)")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("cdk8s.yaml", "main.py", "environments"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    for package in ("sophia", "extensions"):  # this checkout's, whatever the environment has installed
        (project / package).symlink_to(ROOT / package)
    return project


def _cdk8s_synth(project: Path) -> subprocess.CompletedProcess[str]:
    """`make synth`'s command: the pinned (patched) cdk8s-cli, which runs `python main.py`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "CDK8S_CHECK_UPGRADE": "false", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    return subprocess.run([str(ROOT / "node_modules/.bin/cdk8s"), "synth", "--no-check-upgrade"],
                          cwd=project, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_cdk8s_synth_produces_the_same_dist(tmp_path: Path) -> None:
    project = _cdk8s_project(tmp_path)
    proc = _cdk8s_synth(project)
    assert proc.returncode == 0, proc.stderr
    assert _tree(project / "dist") == _tree(ROOT / "dist")
    # cdk8s's own output folder is a scratch mirror, never dist/
    assert (project / ".cdk8s.out/production").is_dir()


@pytest.mark.slow
def test_cdk8s_synth_of_bad_input_shows_sophias_problems_only(tmp_path: Path) -> None:
    """`make synth` on bad input: sophia's located problems and its exit status, no cdk8s-cli stack trace."""
    project = _cdk8s_project(tmp_path)
    production = project / "environments/production.yaml"
    text = production.read_text()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("  domain: "))
    production.write_text(re.sub(r"(?m)^  domain: .*$", "  domain: 12", text))
    proc = _cdk8s_synth(project)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"environments/production.yaml:{line}: spec.domain: Input should be a valid string",
                                        "error: 1 problem(s) found; dist/ was not changed"]
    assert not (project / "dist").exists()
