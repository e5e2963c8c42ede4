"""The `sophia` script ends like any Python program: its exit status, all its output, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
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


SCRIPT = """
import atexit, sys
from pathlib import Path
from sophia.runtime import short_lived
with short_lived():
    atexit.register(Path(sys.argv[1]).write_text, "exit handler ran")
    sys.stdout.write("unflushed output")
    sys.stderr.write("unflushed error")
    sys.exit(int(sys.argv[2]))
print("never")
"""


@pytest.mark.parametrize("status", [0, 3])
def test_a_short_lived_process_runs_exit_handlers_flushes_and_keeps_the_status(tmp_path: Path, status: int) -> None:
    marker = tmp_path / "marker"
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(marker), str(status)],
                         capture_output=True, text=True, timeout=60, check=False, env=BUFFERED)
    assert (run.returncode, run.stdout, run.stderr) == (status, "unflushed output", "unflushed error")
    assert marker.read_text() == "exit handler ran"


def test_a_short_lived_process_skips_the_interpreter_teardown(tmp_path: Path) -> None:
    """An object finalized at teardown says so; inside short_lived() it never gets the chance."""
    script = (
        "import sys\n"
        "from sophia.runtime import short_lived\n"
        "class Noisy:\n"
        "    def __del__(self): print('torn down')\n"
        "keep = Noisy()\n"
        "with short_lived():\n"
        "    sys.exit(0)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
