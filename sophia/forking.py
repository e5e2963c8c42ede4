"""When sophia may split its work with a forked copy of itself (`secret_helper`, `validate.command`)."""

from __future__ import annotations

import os
import threading


def fork_is_useful() -> bool:
    """fork() exists, a second core can run the copy, and this process has no other thread: a forked
    copy of a threaded process can hang on a lock that another thread held at the fork."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1
