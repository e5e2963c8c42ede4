"""`runtime.end`: the quick end keeps what a normal exit guarantees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys
from pathlib import Path
from sophia.runtime import end
atexit.register(Path(sys.argv[1]).write_text, "exit handler ran")
sys.stdout.write("unflushed output")
sys.stderr.write("unflushed error")
end(3)
print("never")
"""

BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
"""Output waits in Python's buffer, as it does for a user (CI machines may set PYTHONUNBUFFERED)."""


def test_end_runs_exit_handlers_flushes_and_keeps_the_status(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(marker)], capture_output=True, text=True, timeout=60, check=False, env=BUFFERED
    )
    assert (run.returncode, run.stdout, run.stderr) == (3, "unflushed output", "unflushed error")
    assert marker.read_text() == "exit handler ran"


def test_end_survives_a_closed_pipe(tmp_path: Path) -> None:
    script = (
        "import sys, time; from sophia.runtime import end; time.sleep(0.3); "
        "sys.stdout.write('x' * 1000); sys.stderr.write('said'); end(0)"
    )
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BUFFERED) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader goes away, like `sophia validate | head -0`
        err = proc.stderr.read()
        proc.wait(timeout=60)
    assert err == b"said"  # standard error is flushed even though standard output could not be
    assert proc.returncode == 0
