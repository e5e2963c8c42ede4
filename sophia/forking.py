"""When sophia may split its work with a forked copy of itself (`secret_helper`, `validate.command`)."""

from __future__ import annotations

import os
import threading


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. under `taskset` or a pinned container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_is_useful() -> bool:
    """fork() exists, a second core can run the copy, and this process has no other thread: a forked
    copy of a threaded process can hang on a lock that another thread held at the fork."""
    return hasattr(os, "fork") and usable_cores() >= 2 and threading.active_count() == 1
