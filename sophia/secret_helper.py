"""detect-secrets for the check of environment literals, in a helper process forked at start-up.

`load()` refuses secret-looking literals in `environments/` (`rules_values.secret_problem`), and
importing detect-secrets takes ~0.2 s of a synth whose Python work is all on one core (the
interpreter lock). The entry points call `start()` (through `runtime.start()`) while the process
is still single-threaded: a forked copy (`forking.Forked`) imports detect-secrets on the other
core while this process imports pydantic and starts jsii, answers the first `secret_problems()`
batch and exits, before the compile needs the memory.

Later batches, and every batch without a helper (no fork, one usable core, a caller with threads,
no process or pipe left), are checked in this process: the same function, the same answers. So
is a batch the helper does not answer within `TIMEOUT` (it died, hangs, or replied nonsense).
"""

from __future__ import annotations

import atexit
import signal
import threading
import time
from collections.abc import Sequence

from sophia.forking import Channel, Forked, fork_is_useful

Verdict = tuple[str, str] | None
"""(rule id, message) for a secret-looking value, else None (`rules_values.secret_problem`)."""

TIMEOUT = 20.0
"""Seconds the helper has to answer a batch (it answers in well under one): then it is killed."""

_helper: Forked | None = None
_started = False
_lock = threading.Lock()


def start() -> None:
    """Fork the helper if this process can (once; later calls do nothing)."""
    global _helper, _started
    with _lock:
        if _started:
            return
        _started = True
        if fork_is_useful():
            _helper = Forked.start(_serve)
            if _helper is not None:
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
            verdicts = _ask(helper, list(pairs)) if pairs else []
        finally:
            helper.close()
        if verdicts is not None:
            return verdicts
    from sophia.validate.rules_values import secret_problem

    return [secret_problem(key, value) for key, value in pairs]


def _ask(helper: Forked, pairs: list[tuple[str, str]]) -> list[Verdict] | None:
    """The helper's verdicts, or None when it cannot answer in time or replied nonsense."""
    deadline = time.monotonic() + TIMEOUT
    verdicts = helper.receive(deadline) if helper.send(pairs, deadline) else None
    if not isinstance(verdicts, list) or len(verdicts) != len(pairs) or not all(map(_is_verdict, verdicts)):
        return None
    return verdicts


def _is_verdict(value: object) -> bool:
    return value is None or (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value))


def _serve(channel: Channel) -> None:
    """The helper's whole life: answer one batch (none if the request pipe closes first)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; EOF ends the helper
    from sophia.validate.rules_values import prepare, secret_problem

    prepare()
    pairs = channel.receive()
    if isinstance(pairs, list):
        channel.send([secret_problem(key, value) for key, value in pairs])
