"""Interruption and concurrency (issue #10): dist/ is always either the old tree or the new one.

`sophia synth` runs as a real subprocess (in its own session, so the kill also takes its jsii
node child) and is killed with SIGKILL at fixed and seeded-random moments, and once exactly while
it writes its staging folder. dist/ must then be byte-identical to the tree before the run or to a
complete new run (the new one differs: production dashboard replicas 2 -> 5), and no staging
folder may be left beside dist/; the next run removes any the killed one left in the temp folder.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO, SOPHIA, run_sophia, tree
from filelock import FileLock

from sophia import write

SYNTH = ("synth", "--environments", "environments", "--out", "dist")
GUARD = 30.0
"""Seconds before a test gives up waiting (a hang guard, never a timed assertion)."""

_seeded = random.Random(1010)
KILL_AFTER = [0.05, 0.2, 0.5, 1.0, *(round(_seeded.uniform(0.6, 1.6), 3) for _ in range(2))]


def _env(tmpdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _start(root: Path, tmpdir: Path, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [str(SOPHIA), *SYNTH], cwd=root, env=_env(tmpdir), text=True, start_new_session=True, **kwargs
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the run and everything it started (its session), then reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=GUARD)


def _staging(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".sophia-*"))


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """(base folder, old dist tree, new dist tree): environments/ already edited to give the new tree."""
    base = tmp_path_factory.mktemp("interruption")
    shutil.copytree(REPO / "environments", base / "environments")
    (base / "tmp").mkdir()
    env = _env(base / "tmp")
    first = subprocess.run([str(SOPHIA), *SYNTH], cwd=base, env=env, capture_output=True, text=True, timeout=GUARD, check=False)
    assert first.returncode == 0, first.stderr
    old = tree(base / "dist")

    prod = base / "environments" / "production.yaml"
    text = prod.read_text()
    assert "    dashboard:\n      replicas: 2\n" in text, "production.yaml changed shape: update this fixture"
    prod.write_text(text.replace("    dashboard:\n      replicas: 2\n", "    dashboard:\n      replicas: 5\n", 1))
    shutil.copytree(base / "environments", base / "new" / "environments")
    second = run_sophia(*SYNTH, cwd=base / "new")
    assert second.returncode == 0, second.stderr
    new = tree(base / "new" / "dist")
    assert old != new
    return base, old, new


@pytest.fixture
def run_dir(tmp_path: Path, states):  # type: ignore[no-untyped-def]
    """tmp_path with the edited environments/, the old dist/ and a private temp folder."""
    base, _old, _new = states
    shutil.copytree(base / "environments", tmp_path / "environments")
    shutil.copytree(base / "dist", tmp_path / "dist")
    (tmp_path / "tmp").mkdir()
    return tmp_path


@pytest.mark.parametrize("delay", KILL_AFTER, ids=[f"after-{d}s" for d in KILL_AFTER])
def test_sigkill_leaves_old_or_new_dist(run_dir: Path, states, read_tree, sophia_cli, delay: float):  # type: ignore[no-untyped-def]
    _base, old, new = states
    proc = _start(run_dir, run_dir / "tmp", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    _kill(proc)

    assert read_tree(run_dir / "dist") in (old, new)
    assert _staging(run_dir) == [], "a staging folder was left beside dist/"

    # the next run completes, and removes whatever staging folder the killed run left in the temp folder
    proc = _start(run_dir, run_dir / "tmp", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = proc.communicate(timeout=GUARD)
    assert proc.returncode == 0, err
    assert read_tree(run_dir / "dist") == new
    assert _staging(run_dir / "tmp") == []


def _kill_while_writing(root: Path, tmpdir: Path, staging_root: Path) -> bool:
    """Start a run and SIGKILL it as soon as its staging folder exists; False if it finished first."""
    prefix = write.staging_prefix(root / "dist")
    proc = _start(root, tmpdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + GUARD
    while proc.poll() is None and time.monotonic() < deadline:
        if any(staging_root.glob(prefix + "*")):
            _kill(proc)
            return True
        time.sleep(0.0005)
    _kill(proc)
    return False


def test_sigkill_while_writing_the_staging_folder(run_dir: Path, states, read_tree):  # type: ignore[no-untyped-def]
    _base, old, new = states
    caught = _kill_while_writing(run_dir, run_dir / "tmp", run_dir / "tmp")

    assert read_tree(run_dir / "dist") in (old, new)
    assert _staging(run_dir) == []
    if caught:  # the usual case: the killed run's staging folder is still in the temp folder
        assert len(list((run_dir / "tmp").glob(write.staging_prefix(run_dir / "dist") + "*"))) == 1
    proc = _start(run_dir, run_dir / "tmp", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = proc.communicate(timeout=GUARD)
    assert proc.returncode == 0, err
    assert read_tree(run_dir / "dist") == new
    assert _staging(run_dir / "tmp") == []


def test_sigkill_while_staging_beside_dist_on_another_filesystem(run_dir: Path, states, read_tree):  # type: ignore[no-untyped-def]
    """When the temp folder is on another filesystem the staging folder sits beside dist/ (the repository)."""
    _base, old, new = states
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == run_dir.stat().st_dev:
        pytest.skip("no temp folder on another filesystem")
    other_tmp = Path(tempfile.mkdtemp(prefix="sophia-test-", dir=shm))
    try:
        caught = _kill_while_writing(run_dir, other_tmp, run_dir)
        assert read_tree(run_dir / "dist") in (old, new)
        if caught:
            assert len(_staging(run_dir)) == 1
        proc = _start(run_dir, other_tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _out, err = proc.communicate(timeout=GUARD)
        assert proc.returncode == 0, err
        assert read_tree(run_dir / "dist") == new
        assert _staging(run_dir) == [], "the next run did not remove the killed run's staging folder"
    finally:
        shutil.rmtree(other_tmp, ignore_errors=True)


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + GUARD
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{path.name} never said {text!r}: {path.read_text()}"
        time.sleep(0.02)


def test_two_synths_at_once_take_turns(run_dir: Path, states, read_tree, monkeypatch):  # type: ignore[no-untyped-def]
    """Both runs find the lock taken (we hold it), say so, and then write one after the other."""
    _base, _old, new = states
    monkeypatch.setattr(tempfile, "tempdir", str(run_dir / "tmp"))
    lock = FileLock(str(write.lock_path(run_dir / "dist")))
    logs = [run_dir / f"run{i}.{s}" for i in (1, 2) for s in ("out", "err")]
    handles = [p.open("w") for p in logs]
    procs = []
    with lock:
        for i in (0, 2):
            procs.append(_start(run_dir, run_dir / "tmp", stdout=handles[i], stderr=handles[i + 1]))
        for err in (logs[1], logs[3]):
            _wait_for(err, "waiting for another sophia synth that is writing")
    for proc in procs:
        proc.wait(timeout=GUARD)
    for handle in handles:
        handle.close()

    assert [p.returncode for p in procs] == [0, 0]
    waiting = f"waiting for another sophia synth that is writing {run_dir / 'dist'} (lock {lock.lock_file})\n"
    assert [logs[1].read_text(), logs[3].read_text()] == [waiting, waiting]
    said = sorted(logs[i].read_text() for i in (0, 2))
    changed = sum(1 for k in new if k in states[1] and new[k] != states[1][k])
    assert said == ["dist: up to date\n", f"dist: written (0 added, {changed} changed, 0 removed)\n"]
    assert read_tree(run_dir / "dist") == new


def test_two_synths_started_together_end_in_one_complete_tree(run_dir: Path, states, read_tree):  # type: ignore[no-untyped-def]
    _base, _old, new = states
    procs = [_start(run_dir, run_dir / "tmp", stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    results = [p.communicate(timeout=GUARD) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert all("Traceback" not in err for _out, err in results)
    assert read_tree(run_dir / "dist") == new
    assert _staging(run_dir) == [] and _staging(run_dir / "tmp") == []


# --- an output folder that cannot be written: exit 2, one line, no traceback -------------------------


def test_read_only_dist(run_dir: Path, read_tree, sophia_cli):  # type: ignore[no-untyped-def]
    dist = run_dir / "dist"
    before = read_tree(dist)
    dist.chmod(0o555)
    try:
        run = sophia_cli(*SYNTH, cwd=run_dir)
    finally:
        dist.chmod(0o755)
    assert "Traceback" not in run.stderr
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"cannot write {dist}: {dist} is read-only (mode dr-xr-xr-x); make it writable and run again\n"
    assert read_tree(dist) == before


def test_read_only_parent(run_dir: Path, read_tree, sophia_cli):  # type: ignore[no-untyped-def]
    parent = run_dir / "ro"
    parent.mkdir()
    shutil.copytree(run_dir / "dist", parent / "dist")
    before = read_tree(parent / "dist")
    parent.chmod(0o555)
    try:
        run = sophia_cli("synth", "--environments", "environments", "--out", "ro/dist", cwd=run_dir)
    finally:
        parent.chmod(0o755)
    assert "Traceback" not in run.stderr
    assert run.returncode == 2
    out = parent / "dist"
    assert run.stderr == f"cannot write {out}: {parent} is read-only (mode dr-xr-xr-x); make it writable and run again\n"
    assert read_tree(out) == before


@pytest.mark.parametrize(
    ("out", "message"),
    [
        pytest.param(
            "missing/dist", "cannot write {root}/missing/dist: its parent folder {root}/missing does not exist", id="missing-parent"
        ),
        pytest.param("afile", "cannot write {root}/afile: it exists and is not a folder", id="out-is-a-file"),
    ],
)
def test_unwritable_output(run_dir: Path, sophia_cli, out: str, message: str):  # type: ignore[no-untyped-def]
    (run_dir / "afile").write_text("not a folder\n")
    run = sophia_cli("synth", "--environments", "environments", "--out", out, cwd=run_dir)
    assert "Traceback" not in run.stderr
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == message.format(root=run_dir) + "\n"
    assert (run_dir / "afile").read_text() == "not a folder\n"
    assert not (run_dir / "missing").exists()
    assert stat.S_ISDIR((run_dir / "dist").stat().st_mode)


def test_the_cdk8s_scratch_copy_shares_no_file_with_dist(tmp_path: Path) -> None:
    """Editing `.cdk8s.out/` in place (a plugin, a person) must never edit dist/."""
    from sophia.cdk8s_app import _mirror

    out = tmp_path / "dist"
    (out / "env/app").mkdir(parents=True)
    (out / "env/app/ConfigMap-a.yaml").write_text("a: 1\n")
    _mirror(out, tmp_path / ".cdk8s.out")
    copy = tmp_path / ".cdk8s.out/env/app/ConfigMap-a.yaml"
    assert copy.read_text() == "a: 1\n"
    with copy.open("w") as handle:  # in place, through the same inode if it were a link
        handle.write("a: 2\n")
    assert (out / "env/app/ConfigMap-a.yaml").read_text() == "a: 1\n"
