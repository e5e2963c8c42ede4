"""Day two: `sophia release set`, `sophia promote`, `sophia rollback` and `sophia diff --pending`,
run as a user runs them, in a git repository with a remote (the revision development runs)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_sophia

pytestmark = pytest.mark.slow
TIMEOUT = 60.0


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding environments/ and dist/, pushed to an origin whose main development follows."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(REPO / "environments", work / "environments")
    shutil.copytree(REPO / "dist", work / "dist")
    _git(work, "init", "-q", "-b", "main")
    _git(work, "config", "user.name", "t")
    _git(work, "config", "user.email", "t@example.org")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "start")
    production = work / "environments/production.yaml"
    text = production.read_text()
    revision = yaml.safe_load(text)["spec"]["promotion"]["revision"]
    production.write_text(text.replace(revision, _git(work, "rev-parse", "HEAD")))  # production runs this start
    assert run_sophia("synth", cwd=work, timeout=TIMEOUT).returncode == 0
    _git(work, "commit", "-qam", "production runs the start")
    _git(tmp_path, "init", "-q", "--bare", "origin.git")
    _git(work, "remote", "add", "origin", str(tmp_path / "origin.git"))
    _git(work, "push", "-q", "origin", "main")
    return work


def _changed(repo: Path) -> set[str]:
    done = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "-uall"], capture_output=True, text=True, check=True)
    return {line[3:] for line in done.stdout.splitlines()}


def _sophia(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_sophia(*args, cwd=repo, timeout=TIMEOUT)


def test_promoting_an_image_changes_exactly_the_target_release_and_its_dist(repo: Path) -> None:
    release = repo / "environments/releases/production.yaml"
    before = release.read_text()
    tested = yaml.safe_load((repo / "environments/releases/development.yaml").read_text())["spec"]["images"]["backend"]["tag"]
    run = _sophia(repo, "promote", "development", "production", "backend")
    assert run.returncode == 0, run.stderr
    changed = _changed(repo)
    assert "environments/releases/production.yaml" in changed
    outside = sorted(p for p in changed if p != "environments/releases/production.yaml" and not p.startswith("dist/production/"))
    assert outside == []
    assert "dist/production/core/Deployment-backend.yaml" in changed
    after = release.read_text()
    assert after.replace(f'backend: {{tag: "{tested}"}}', 'backend: {tag: "2025.07.09"}') == before, "one line changed, comments kept"
    assert before.splitlines()[1] == after.splitlines()[1] and after.splitlines()[1].startswith("# ")
    assert "Deployment" in run.stdout and "changed" in run.stdout, "the diff summary is printed"


def test_a_tag_the_source_never_ran_is_refused_unless_forced_with_a_reason(repo: Path) -> None:
    refused = _sophia(repo, "release", "set", "chat", "9.9.9", "--env", "production")
    assert refused.returncode == 1
    assert "development never ran chat 9.9.9" in refused.stderr and "--force --reason" in refused.stderr
    assert _changed(repo) == set(), "a refused change changes nothing"
    no_reason = _sophia(repo, "release", "set", "chat", "9.9.9", "--env", "production", "--force")
    assert (no_reason.returncode, _changed(repo)) == (1, set())
    forced = _sophia(repo, "release", "set", "chat", "9.9.9", "--env", "production", "--force", "--reason", "hotfix for the login loop")
    assert forced.returncode == 0, forced.stderr
    line = next(ln for ln in (repo / "environments/releases/production.yaml").read_text().splitlines() if ln.strip().startswith("chat:"))
    assert line == '    chat: {tag: "9.9.9"}  # forced: hotfix for the login loop (not run in development)'


def test_a_change_that_does_not_compile_is_put_back(repo: Path) -> None:
    run = _sophia(repo, "release", "set", "backend", "latest", "--env", "development")
    assert run.returncode == 1
    assert "'latest' is not a version" in run.stderr and "nothing was changed" in run.stderr
    assert _changed(repo) == set()


def test_config_reaches_development_first_then_production_by_promotion_and_back(repo: Path) -> None:
    production = repo / "environments/production.yaml"
    revision = yaml.safe_load(production.read_text())["spec"]["promotion"]["revision"]
    catalog = repo / "environments/catalog.yaml"
    text = catalog.read_text()
    assert "LOG_LEVEL: info" in text
    catalog.write_text(text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug", 1))
    assert _sophia(repo, "synth").returncode == 0
    _git(repo, "commit", "-qam", "catalogue: debug logs")
    _git(repo, "push", "-q", "origin", "main")
    merged = _git(repo, "rev-parse", "HEAD")

    apps = [yaml.safe_load(p.read_text()) for p in (repo / "dist/production/argocd").glob("Application-*.yaml")]
    assert {a["spec"]["source"]["targetRevision"] for a in apps if not a["metadata"]["name"].endswith("-root")} == {revision}
    assert {a["spec"]["source"]["targetRevision"] for a in apps if a["metadata"]["name"].endswith("-root")} == {"main"}
    pending = _sophia(repo, "diff", "--pending", "production", "--no-color")
    assert pending.returncode == 1, pending.stderr
    assert "LOG_LEVEL" in pending.stdout and "debug" in pending.stdout

    promoted = _sophia(repo, "promote", "development", "production")
    assert promoted.returncode == 0, promoted.stderr
    assert f"production: {revision[:12]} -> {merged[:12]}" in promoted.stdout
    spec = yaml.safe_load(production.read_text())["spec"]["promotion"]
    assert (spec["revision"], spec["history"][0]) == (merged, revision)
    assert _changed(repo) == {"environments/production.yaml", "dist/production/SUMMARY.md"} | {
        f"dist/production/argocd/{p.name}" for p in (repo / "dist/production/argocd").glob("Application-*.yaml")
        if not p.name.endswith("-root.yaml")}
    assert "# Production runs what development tested" in production.read_text(), "comments kept"

    back = _sophia(repo, "rollback", "production")
    assert back.returncode == 0, back.stderr
    assert f"production: {merged[:12]} -> {revision[:12]}" in back.stdout
    assert yaml.safe_load(production.read_text())["spec"]["promotion"] == {"from": "development", "revision": revision}
    assert _changed(repo) == set(), "rolling back the promotion gives the files as they were"
