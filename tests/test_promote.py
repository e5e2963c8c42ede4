"""Day two: `sophia release set`, `sophia promote`, `sophia rollback` and `sophia diff --pending`,
run as a user runs them, in a git repository with a remote (the revision development runs)."""

from __future__ import annotations

import re
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
    text = re.sub(r"\n    history:\n(      - [0-9a-f]{40}\n)+", "\n", text)  # no earlier revision in this repository
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


def _run_promote_workflow(repo: Path) -> None:
    """What .github/workflows/promote.yml does after a merge: each deploy branch to its promoted commit
    of main, plus one commit pinning the environment's child Applications to that commit."""
    listed = _sophia(repo, "deploy-branches")
    assert listed.returncode == 0, listed.stderr
    for line in listed.stdout.splitlines():
        branch, revision, environment = line.split()
        _git(repo, "merge-base", "--is-ancestor", revision, "origin/main")
        parent = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"origin/{branch}^"],
                                capture_output=True, text=True, check=False).stdout.strip()
        if parent == revision:
            continue
        work = repo.parent / f"deploy-{environment}"
        _git(repo, "worktree", "add", "-q", "--detach", str(work), revision)
        pinned = _sophia(repo, "pin-applications", environment, revision, "--dist", str(work / "dist"))
        assert pinned.returncode == 0, pinned.stderr
        _git(work, "commit", "-qam", f"deploy {environment}: {revision}")
        _git(work, "push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}")
        _git(repo, "worktree", "remove", "--force", str(work))


def _merge(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message)
    _git(repo, "push", "-q", "origin", "main")
    _run_promote_workflow(repo)
    return _git(repo, "rev-parse", "HEAD")


def _production_runs(repo: Path) -> dict[str, str]:
    """dist/production as production's Argo CD reads it: every file at the tip of its deploy branch."""
    files = _git(repo, "ls-tree", "-r", "--name-only", "origin/deploy/production", "--", "dist/production").split()
    return {f: _git(repo, "show", f"origin/deploy/production:{f}") for f in files}


def test_config_reaches_development_first_then_production_by_promotion_and_back(repo: Path) -> None:
    production = repo / "environments/production.yaml"
    revision = yaml.safe_load(production.read_text())["spec"]["promotion"]["revision"]
    _run_promote_workflow(repo)
    before = _production_runs(repo)
    assert _git(repo, "rev-parse", "origin/deploy/production^") == revision
    tracked = {yaml.safe_load(t)["metadata"]["name"]: yaml.safe_load(t)["spec"]["source"]["targetRevision"]
               for f, t in before.items() if "/argocd/Application-" in f}
    assert tracked.pop("production-root") == "deploy/production", "the root tracks the branch"
    assert set(tracked.values()) == {revision}, "each child syncs the promoted commit, so the root syncs them in waves"

    # every Application of production, its root included, tracks the deploy branch
    apps = [yaml.safe_load(p.read_text()) for p in (repo / "dist/production/argocd").glob("Application-*.yaml")]
    assert {a["spec"]["source"]["targetRevision"] for a in apps} == {"deploy/production"}
    assert any(a["metadata"]["name"] == "production-root" for a in apps)

    # a merged change of the catalogue: a setting, and an application's services moved to another one
    catalog = repo / "environments/catalog.yaml"
    text = catalog.read_text()
    assert "LOG_LEVEL: info" in text and "application: automation" in text
    catalog.write_text(text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug", 1).replace("application: automation", "application: data"))
    assert _sophia(repo, "synth").returncode == 0
    assert not (repo / "dist/production/argocd/Application-production-automation.yaml").exists()
    merged = _merge(repo, "catalogue: debug logs, automation joins data")
    assert _production_runs(repo) == before, "production's Applications, project and manifests are untouched by a merge"
    pending = _sophia(repo, "diff", "--pending", "production", "--no-color")
    assert pending.returncode == 1, pending.stderr
    assert "LOG_LEVEL" in pending.stdout and "debug" in pending.stdout
    assert any("production-automation" in line and "prune" in line for line in pending.stdout.splitlines()), \
        "the Application that goes is pending too"

    promoted = _sophia(repo, "promote", "development", "production")
    assert promoted.returncode == 0, promoted.stderr
    assert f"production: {revision[:12]} -> {merged[:12]}" in promoted.stdout
    assert "deploy/production" in promoted.stdout, "it says how the promotion reaches the cluster"
    shown = promoted.stdout.split("What production will change once merged:", 1)[1]
    assert "[namespace-deletion]" in shown, "the risks of the promotion, for its reviewer"
    assert any("production-automation" in line and "prune" in line for line in shown.splitlines())
    spec = yaml.safe_load(production.read_text())["spec"]["promotion"]
    assert (spec["revision"], spec["history"][0]) == (merged, revision)
    assert _changed(repo) == {"environments/production.yaml", "dist/production/SUMMARY.md"}, "a one-line promotion"
    assert "# Production runs what development tested" in production.read_text(), "comments kept"
    _merge(repo, "promote development to production")
    runs = _production_runs(repo)
    assert "dist/production/argocd/Application-production-automation.yaml" not in runs
    assert any("LOG_LEVEL: debug" in text for text in runs.values())

    back = _sophia(repo, "rollback", "production")
    assert back.returncode == 0, back.stderr
    assert f"production: {merged[:12]} -> {revision[:12]}" in back.stdout
    assert "LOG_LEVEL" in back.stdout.split("What production will change once merged:", 1)[1]
    assert yaml.safe_load(production.read_text())["spec"]["promotion"] == {"from": "development", "revision": revision}
    _merge(repo, "roll production back")
    assert _production_runs(repo) == before


def test_a_tag_counts_as_tested_only_once_merged_to_the_branch_its_environment_follows(repo: Path) -> None:
    assert _sophia(repo, "release", "set", "chat", "7.7.7", "--env", "development").returncode == 0
    refused = _sophia(repo, "release", "set", "chat", "7.7.7", "--env", "production")
    assert refused.returncode == 1 and "development never ran chat 7.7.7" in refused.stderr, "a working-tree edit ran nowhere"
    _git(repo, "switch", "-q", "-c", "feature")
    _git(repo, "commit", "-qam", "chat 7.7.7, on a branch")
    refused = _sophia(repo, "promote", "development", "production", "chat")
    assert refused.returncode == 1 and "never ran it (not on main)" in refused.stderr, "an unmerged branch ran nowhere"
    _git(repo, "switch", "-q", "main")
    _git(repo, "merge", "-q", "feature")
    _git(repo, "push", "-q", "origin", "main")
    done = _sophia(repo, "promote", "development", "production", "chat")
    assert done.returncode == 0, done.stderr
    assert "reaches it with the next `sophia promote development production`" in done.stdout


def test_a_shallow_clone_is_told_to_fetch_the_history(repo: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "main", f"file://{tmp_path / 'origin.git'}", str(shallow))
    refused = _sophia(shallow, "release", "set", "chat", "9.9.9", "--env", "production")
    assert refused.returncode == 1
    assert "history is shallow" in refused.stderr and "fetch-depth: 0" in refused.stderr


def test_a_commit_from_before_deploy_branches_cannot_be_promoted_or_rolled_back_to(repo: Path) -> None:
    """At such a commit production's root Application followed main: running it would hand production back to main."""
    root = repo / "dist/production/argocd/Application-production-root.yaml"
    text = root.read_text()
    root.write_text(text.replace("targetRevision: deploy/production", "targetRevision: main"))
    old = _merge(repo, "a dist/ as it was before deploy branches")
    root.write_text(text)
    _merge(repo, "deploy branches")
    refused = _sophia(repo, "promote", "development", "production", "--revision", old)
    assert refused.returncode == 1
    assert "root Application tracks 'main', not its deploy branch 'deploy/production'" in refused.stderr
    production = repo / "environments/production.yaml"
    spec = yaml.safe_load(production.read_text())["spec"]["promotion"]
    production.write_text(production.read_text().replace(f"revision: {spec['revision']}",
                                                         f"revision: {spec['revision']}\n    history: [{old}]"))
    _merge(repo, "history with a pre-branch revision")
    refused = _sophia(repo, "rollback", "production")
    assert refused.returncode == 1 and "predates deploy branches" in refused.stderr
    assert _changed(repo) == set()


def test_a_revision_development_never_ran_cannot_be_promoted(repo: Path) -> None:
    _git(repo, "switch", "-q", "-c", "feature")
    (repo / "environments/catalog.yaml").write_text((repo / "environments/catalog.yaml").read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: warn", 1))
    assert _sophia(repo, "synth").returncode == 0
    _git(repo, "commit", "-qam", "unmerged")
    unmerged = _git(repo, "rev-parse", "HEAD")
    refused = _sophia(repo, "promote", "development", "production", "--revision", unmerged)
    assert refused.returncode == 1
    assert f"{unmerged[:12]} is not on main, which development follows" in refused.stderr
