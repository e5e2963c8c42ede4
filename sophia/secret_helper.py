"""detect-secrets for the check of environment literals, in a helper process forked at start-up.

`load()` refuses secret-looking literals in `environments/` (`rules_values.secret_problem`), and
importing detect-secrets takes ~0.2 s of a synth whose Python work is all on one core (the
interpreter lock). The entry points call `start()` (through `runtime.start()`) while the process
is still single-threaded: a forked copy imports detect-secrets on the other core while this
process imports pydantic and starts jsii, answers the first `secret_problems()` batch (one JSON
line each way) and exits, before the compile needs the memory.

Later batches, and every batch without a helper (no fork, one usable core, a caller with threads,
no process or pipe left), are checked in this process: the same function, the same answers. So
is a batch the helper does not answer within `TIMEOUT` (it died, hangs, or replied nonsense).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from typing import NoReturn

from sophia.forking import fork_is_useful

Verdict = tuple[str, str] | None
"""(rule id, message) for a secret-looking value, else None (`rules_values.secret_problem`)."""

TIMEOUT = 20.0
"""Seconds the helper has to answer a batch (it answers in well under one): then it is killed."""


class _Helper:
    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self.pid = pid
        self.requests = requests
        self.replies = replies

    def ask(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict] | None:
        """The helper's verdicts, or None when it cannot answer in time or replied nonsense."""
        deadline = time.monotonic() + TIMEOUT
        try:
            os.set_blocking(self.requests, False)  # a large batch must not block past the deadline
            request = memoryview(json.dumps(list(pairs)).encode() + b"\n")
            while request:
                if not select.select([], [self.requests], [], max(0.0, deadline - time.monotonic()))[1]:
                    return None
                with contextlib.suppress(BlockingIOError):  # full again already: wait once more
                    request = request[os.write(self.requests, request):]
            reply = bytearray()
            while not reply.endswith(b"\n"):
                if not select.select([self.replies], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    return None
                chunk = os.read(self.replies, 1 << 16)
                if not chunk:
                    return None  # it died
                reply += chunk
            verdicts = json.loads(reply)
        except (OSError, ValueError):
            return None
        if not isinstance(verdicts, list) or len(verdicts) != len(pairs) or not all(map(_is_verdict, verdicts)):
            return None
        return [tuple(v) if v is not None else None for v in verdicts]

    def close(self) -> None:
        """Stop the helper and reap it (it holds no state worth finishing)."""
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)


def _is_verdict(value: object) -> bool:
    return value is None or (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value))


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
        opened: list[int] = []
        try:
            opened.extend(os.pipe())
            opened.extend(os.pipe())
            pid = os.fork()
        except OSError:  # no pipe or process left: check in this process
            for fd in opened:
                os.close(fd)
            return
        request_read, request_write, reply_read, reply_write = opened
        if pid == 0:
            try:
                os.close(request_write)
                os.close(reply_read)
                _serve(request_read, reply_write)
            finally:
                os._exit(1)  # never return into the parent's code
        os.close(request_read)
        os.close(reply_write)
        _helper = _Helper(pid, request_write, reply_read)
        atexit.register(stop)


def stop() -> None:
    """Stop the helper, if one runs (at exit, or when no batch will come)."""
    global _helper
    with _lock:
        helper, _helper = _helper, None
    if helper is not None:
        helper.close()


def secret_problems(pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
    """`secret_problem(key, value)` for each pair, in order."""
    global _helper
    with _lock:
        helper, _helper = _helper, None
    if helper is not None:
        try:
            verdicts = helper.ask(pairs) if pairs else []
        finally:
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
