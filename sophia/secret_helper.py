"""detect-secrets for the check of environment literals, in a helper process forked at start-up.

`load()` refuses secret-looking literals in `environments/` (`rules_values.secret_problem`), and
importing detect-secrets takes ~0.2 s of a synth whose Python work is all on one core (the
interpreter lock). The entry points call `start()` (through `runtime.start()`) while the process
is still single-threaded: a forked copy imports detect-secrets on the other core while this
process imports pydantic and starts jsii, answers the first `secret_problems()` batch (one JSON
line each way) and exits, before the compile needs the memory.

Later batches, and every batch without a helper (no fork, a single core, a caller with threads,
a helper that died), are checked in this process: the same function, the same answers.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import threading
from collections.abc import Sequence
from typing import IO, NoReturn

from sophia.forking import fork_is_useful

Verdict = tuple[str, str] | None
"""(rule id, message) for a secret-looking value, else None (`rules_values.secret_problem`)."""


class _Helper:
    def __init__(self, pid: int, requests: IO[bytes], replies: IO[bytes]) -> None:
        self.pid = pid
        self.requests = requests
        self.replies = replies

    def ask(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict] | None:
        """The helper's verdicts, or None when it cannot answer (it died, or replied nonsense)."""
        try:
            self.requests.write(json.dumps(list(pairs)).encode() + b"\n")
            self.requests.flush()
            reply = json.loads(self.replies.readline())
        except (OSError, ValueError):
            return None
        if not isinstance(reply, list) or len(reply) != len(pairs):
            return None
        return [tuple(v) if isinstance(v, list) and len(v) == 2 else None for v in reply]

    def close(self) -> None:
        """Stop the helper and reap it (it holds no state worth finishing)."""
        for stream in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


_helper: _Helper | None = None
_started = False
_lock = threading.Lock()


def start() -> None:
    """Fork the helper if this process can (once; later calls do nothing)."""
    global _helper, _started
    with _lock:
        if _started:
            return
        _started = True
        if not fork_is_useful():
            return
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(request_write)
            os.close(reply_read)
            _serve(request_read, reply_write)
        os.close(request_read)
        os.close(reply_write)
        _helper = _Helper(pid, os.fdopen(request_write, "wb"), os.fdopen(reply_read, "rb"))
        atexit.register(stop)


def stop() -> None:
    """Stop the helper, if one runs (at exit, or when no batch will come)."""
    global _helper
    with _lock:
        if _helper is not None:
            _helper.close()
            _helper = None


def secret_problems(pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
    """`secret_problem(key, value)` for each pair, in order."""
    global _helper
    with _lock:
        helper, _helper = _helper, None
    if helper is not None:
        verdicts = helper.ask(pairs)
        helper.close()
        if verdicts is not None:
            return verdicts
    from sophia.validate.rules_values import secret_problem

    return [secret_problem(key, value) for key, value in pairs]


def _serve(requests: int, replies: int) -> NoReturn:
    """The helper's whole life: answer one batch (none if the request pipe closes first), exit."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; EOF ends the helper
        from sophia.validate.rules_values import prepare, secret_problem

        prepare()
        with os.fdopen(requests, "rb") as inbox, os.fdopen(replies, "wb") as outbox:
            line = inbox.readline()
            if line:
                pairs = json.loads(line)
                outbox.write(json.dumps([secret_problem(key, value) for key, value in pairs]).encode() + b"\n")
    except BaseException:  # noqa: BLE001 - the parent sees EOF and checks the values itself
        code = 1
    os._exit(code)
