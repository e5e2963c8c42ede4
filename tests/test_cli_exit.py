"""The `sophia` script ends like any Python program: its exit status, all its output, no traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import SOPHIA

BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
"""Output waits in Python's buffer, as it does for a user (CI machines may set PYTHONUNBUFFERED)."""


def test_exit_status_and_output_of_a_failing_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {UPSTREAM: \"10.1.2.3\"}\n")
    run = subprocess.run([str(SOPHIA), "policy", str(bad)], capture_output=True, text=True, timeout=60, check=False, env=BUFFERED)
    assert run.returncode == 1
    assert run.stdout.rstrip().endswith("errors")  # the summary, the last line, reached the reader


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    with subprocess.Popen([str(SOPHIA), "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BUFFERED) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `sophia --help | head -0`
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert b"Traceback" not in err and b"Exception ignored" not in err, err.decode()
