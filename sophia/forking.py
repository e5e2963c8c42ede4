"""When and how `sophia validate` splits its work with a forked copy of itself (`validate.command`).

`Forked` is the mechanism: a copy running one function, two pipes between them, each message a
pickle behind its length. It stays light to import (no multiprocessing: ~20 ms that would come
before the fork, on the path the fork is meant to shorten). Only the command line forks: it knows
its process has no other thread (benchmarks/README.md has the paired figure that keeps it).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import threading
import time
from collections.abc import Callable

_LENGTH = struct.Struct("<Q")


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. under `taskset` or a pinned container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_is_useful() -> bool:
    """fork() exists, a second core can run the copy, and this process has no other thread: a forked
    copy of a threaded process can hang on a lock that another thread held at the fork."""
    return hasattr(os, "fork") and usable_cores() >= 2 and threading.active_count() == 1


class Channel:
    """One side of the two pipes. A `deadline` (time.monotonic()) bounds a call; None waits.

    Messages are never None, so None from `receive` means there is nothing to read: the other side
    ended, the deadline passed, or the bytes were not a message.
    """

    def __init__(self, inbox: int, outbox: int) -> None:
        self.inbox = inbox
        self.outbox = outbox
        os.set_blocking(outbox, False)  # a large message must not block past a deadline
        os.set_blocking(inbox, False)

    def send(self, value: object, deadline: float | None = None) -> bool:
        """Whether the whole message was written in time."""
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        data = memoryview(_LENGTH.pack(len(body)) + body)
        try:
            while data:
                if not _ready(self.outbox, deadline, write=True):
                    return False
                with contextlib.suppress(BlockingIOError):  # full again already: wait once more
                    data = data[os.write(self.outbox, data):]
        except (OSError, ValueError):  # the reader is gone; a descriptor select() cannot watch
            return False
        return True

    def receive(self, deadline: float | None = None) -> object | None:
        try:
            head = self._read(_LENGTH.size, deadline)
            body = self._read(_LENGTH.unpack(head)[0], deadline) if head is not None else None
            return pickle.loads(body) if body is not None else None
        except (OSError, ValueError, pickle.UnpicklingError, EOFError):
            return None

    def _read(self, size: int, deadline: float | None) -> bytes | None:
        data = bytearray()
        while len(data) < size:
            if not _ready(self.inbox, deadline, write=False):
                return None
            with contextlib.suppress(BlockingIOError):
                chunk = os.read(self.inbox, min(size - len(data), 1 << 20))
                if not chunk:
                    return None  # the other side ended
                data += chunk
        return bytes(data)


def _ready(fd: int, deadline: float | None, *, write: bool) -> bool:
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    watched = [fd]
    readable, writable, _ = select.select([] if write else watched, watched if write else [], [], timeout)
    return bool(writable if write else readable)


class Forked(Channel):
    """The parent's side of a forked copy running `target(channel)`.

    The copy never returns into the caller's code: it ends with `os._exit`, quietly, whatever the
    function did (the parent sees the pipe close and does the work itself). `close()` kills and
    reaps it: it holds nothing worth finishing.
    """

    def __init__(self, pid: int, inbox: int, outbox: int) -> None:
        super().__init__(inbox, outbox)
        self.pid = pid

    @classmethod
    def start(cls, target: Callable[[Channel], object]) -> Forked | None:
        """Fork and run `target` in the copy; None when no pipe or process is left."""
        opened: list[int] = []
        try:
            opened.extend(os.pipe())
            opened.extend(os.pipe())
            pid = os.fork()
        except OSError:
            for fd in opened:
                os.close(fd)
            return None
        from_parent, to_child, from_child, to_parent = opened  # os.pipe(): (read end, write end)
        if pid == 0:
            code = 1
            try:
                os.close(to_child)
                os.close(from_child)
                target(Channel(from_parent, to_parent))
                code = 0
            except BaseException:  # noqa: BLE001, S110 - said by the pipe closing early
                pass
            finally:
                os._exit(code)
        os.close(from_parent)
        os.close(to_parent)
        return cls(pid, from_child, to_child)

    def close(self) -> None:
        for fd in (self.inbox, self.outbox):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)
