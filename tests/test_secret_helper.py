"""The secret check of environment literals in a forked helper: same answers, and a safe fallback.

Each case runs in a fresh interpreter: the helper is forked only by a single-threaded process,
and this test process has threads (jsii's) once any synth ran.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PAIRS = [
    ("DB_PASSWORD", "changeme"),
    ("API_TOKEN", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
    ("SECRET_KEY", "${SECRET_KEY}"),
    ("LOG_LEVEL", "info"),
    ("image", "ghcr.io/sophia/api"),
    ("value", "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGxvbmcgYmFzZTY0IHN0cmluZw=="),
]


def _run(body: str, *args: str) -> dict[str, object]:
    script = textwrap.dedent(
        """
        import json, os, signal, sys, threading
        from sophia import secret_helper
        PAIRS = [tuple(p) for p in json.loads(sys.argv[1])]
        out = {}
        def reaped(pid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return True
            return False
        """
    ) + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps(PAIRS), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout)
    return result


def _in_process() -> list[object]:
    from sophia.validate.rules_values import secret_problem

    return [list(v) if v is not None else None for v in (secret_problem(k, v) for k, v in PAIRS)]


def test_the_helper_answers_as_this_process_would_without_importing_detect_secrets_here() -> None:
    out = _run(
        """
        secret_helper.start()
        out["forked"] = secret_helper._helper is not None
        out["verdicts"] = secret_helper.secret_problems(PAIRS)
        out["detect_secrets_here"] = any(m.startswith("detect_secrets") for m in sys.modules)
        out["helper_after"] = secret_helper._helper is not None
        """
    )
    assert out["forked"] is True
    assert out["verdicts"] == _in_process()
    assert sum(v is not None for v in _in_process()) == 4  # the cases above do mean something
    assert out["detect_secrets_here"] is False
    assert out["helper_after"] is False  # one batch, then it is gone (its memory too)


def test_a_second_batch_and_a_dead_helper_are_answered_here() -> None:
    out = _run(
        """
        secret_helper.start()
        os.kill(secret_helper._helper.pid, signal.SIGKILL)
        out["after_death"] = secret_helper.secret_problems(PAIRS)
        out["second"] = secret_helper.secret_problems(PAIRS)
        """
    )
    assert out["after_death"] == _in_process()
    assert out["second"] == _in_process()


def test_a_threaded_process_never_forks() -> None:
    out = _run(
        """
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        secret_helper.start()
        out["forked"] = secret_helper._helper is not None
        out["verdicts"] = secret_helper.secret_problems(PAIRS)
        stop.set()
        """
    )
    assert out["forked"] is False
    assert out["verdicts"] == _in_process()


def test_an_unused_helper_is_stopped_and_reaped_at_exit() -> None:
    out = _run(
        """
        secret_helper.start()
        pid = secret_helper._helper.pid
        secret_helper.stop()
        out["alive"] = not reaped(pid)
        """
    )
    assert out["alive"] is False


def test_a_helper_that_does_not_answer_in_time_is_killed_and_the_batch_checked_here() -> None:
    out = _run(
        """
        secret_helper.TIMEOUT = 0.5
        secret_helper.start()
        pid = secret_helper._helper.pid
        os.kill(pid, signal.SIGSTOP)
        out["verdicts"] = secret_helper.secret_problems(PAIRS)
        out["reaped"] = reaped(pid)
        """
    )
    assert out["verdicts"] == _in_process()
    assert out["reaped"] is True


def test_an_interrupted_batch_leaves_no_zombie() -> None:
    out = _run(
        """
        def interrupt(*_):
            raise KeyboardInterrupt
        secret_helper.start()
        pid = secret_helper._helper.pid
        os.kill(pid, signal.SIGSTOP)
        signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            secret_helper.secret_problems(PAIRS)
        except KeyboardInterrupt:
            out["interrupted"] = True
        out["reaped"] = reaped(pid)
        """
    )
    assert out == {"interrupted": True, "reaped": True}


def test_no_pipe_or_process_left_means_no_helper_and_no_leaked_descriptor() -> None:
    out = _run(
        """
        def no_process():
            raise BlockingIOError(11, "Resource temporarily unavailable")
        before = sorted(os.listdir("/proc/self/fd"))
        os.fork = no_process
        secret_helper.start()
        out["forked"] = secret_helper._helper is not None
        out["leaked"] = sorted(os.listdir("/proc/self/fd")) != before
        out["verdicts"] = secret_helper.secret_problems(PAIRS)
        """
    )
    assert out["forked"] is False
    assert out["leaked"] is False
    assert out["verdicts"] == _in_process()


def test_an_empty_batch_does_not_wait_for_the_helper() -> None:
    out = _run(
        """
        import time
        secret_helper.start()
        pid = secret_helper._helper.pid
        os.kill(pid, signal.SIGSTOP)  # it would never answer
        started = time.monotonic()
        out["verdicts"] = secret_helper.secret_problems([])
        out["seconds"] = time.monotonic() - started
        """
    )
    assert out["verdicts"] == []
    assert out["seconds"] < 5  # (TIMEOUT is 20 s)


def test_a_synth_process_checks_environment_literals_in_the_helper() -> None:
    """`runtime.start()` then `load()`, as the entry points do: detect-secrets never enters this process."""
    out = _run(
        """
        from pathlib import Path
        from sophia import runtime
        from sophia.spec.loader import load
        runtime.start()
        load(Path(sys.argv[2]))
        out["detect_secrets_here"] = any(m.startswith("detect_secrets") for m in sys.modules)
        out["helper_left"] = secret_helper._helper is not None
        """,
        str(Path(__file__).resolve().parent / "fixtures/envs/basic"),
    )
    assert out == {"detect_secrets_here": False, "helper_left": False}


@pytest.mark.parametrize("module", ["sophia.validate.command", "sophia.validate.schema", "jsonschema_rs", "detect_secrets"])
def test_the_literal_check_imports_no_more_of_the_validator_than_it_uses(module: str) -> None:
    out = _run(
        f"""
        import sophia.validate.rules_values
        out["imported"] = {module!r} in sys.modules
        """
    )
    assert out["imported"] is False


def test_every_public_name_of_the_validator_resolves() -> None:
    import sophia.validate as validate

    for name in validate.__all__:
        assert getattr(validate, name) is not None
    with pytest.raises(AttributeError):
        validate.no_such_name  # noqa: B018


def test_the_command_line_reports_every_literal_problem_located(tmp_path: Path) -> None:
    """`sophia synth` as a user runs it (with its helper): every literal problem, located, dist/ untouched."""
    from conftest import REPO, run_sophia

    root = tmp_path / "environments"
    shutil.copytree(REPO / "tests/fixtures/envs/basic", root)
    catalog = root / "catalog.yaml"
    old = "      env: {LOG_LEVEL: info}\n"
    assert old in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(
        old, "      env: {LOG_LEVEL: info, API_TOKEN: ghp_0123456789abcdefghijABCDEFGHIJ012345, UPSTREAM: 10.1.2.3}\n", 1
    ))
    out = tmp_path / "dist"
    run = run_sophia("synth", "--environments", str(root), "--out", str(out), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "catalog.yaml:14: spec.services.api.env.API_TOKEN: secret literal:" in run.stderr
    assert "catalog.yaml:14: spec.services.api.env.UPSTREAM: IP address 10.1.2.3 written as a host" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
