"""The process around the work: the jsii runtime started early, and a process tuned to run once.

Starting the jsii runtime (cdk8s's Node.js processes) costs ~0.5 s, mostly waiting for Node.js.
`main.py`, `sophia synth` and `sophia check` call `start()` before importing the rest of sophia
(pydantic's models alone take ~0.3 s to build), so the two overlap; `pipeline.compile_tree` joins
it (and starts it, for `sophia diff` and library callers). Both entry points (`sophia` and the
cdk8s app) run inside `short_lived()`.

The two settings `short_lived()` makes exist only for speed; each stays while paired runs show it
pays (benchmarks/README.md has the figures).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import sys
import threading
from collections.abc import Iterator

_thread: threading.Thread | None = None


def start() -> threading.Thread:
    """Start cdk8s's import (which starts the jsii runtime) in a daemon thread. Later calls return
    the same thread.

    Returns once the thread has imported jsii's Python package (~0.15 s): Node.js starts right
    after that, and the runtime is what a synth waits for. When the caller went on importing
    pydantic meanwhile, the two shared the interpreter lock, jsii's import took ~0.25 s, Node.js
    started later and the synth ended ~0.1 s later (median of 10 paired runs).
    """
    global _thread
    if _thread is None:
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        imported = threading.Event()

        def run() -> None:
            try:
                importlib.import_module("jsii")
            finally:
                imported.set()
            importlib.import_module("cdk8s")

        _thread = threading.Thread(target=run, name="jsii-start", daemon=True)
        _thread.start()
        imported.wait()  # see the docstring
    return _thread


GC_THRESHOLD = (200_000, 30, 30)
"""Cycle collection after 200,000 new objects instead of CPython's 700 (mypy uses the same)."""


@contextlib.contextmanager
def short_lived() -> Iterator[None]:
    """Run the body as a command that builds many objects once and then ends.

    * The cycle collector runs less often (`GC_THRESHOLD`): with CPython's default it keeps
      walking the objects that survive (pydantic's models, jsii's classes, parsed manifests);
      sophia's objects rarely form cycles and reference counting frees them either way.
    * The process ends without the interpreter's teardown, which frees every module and object
      one by one and decides nothing. An exit handler registered here, before any other (jsii
      registers its own when it starts), runs last: after every other handler (jsii's stops its
      Node.js processes), it flushes standard output and error and ends the process with
      `os._exit`, keeping the exit status the body ended with. Files sophia writes are closed
      when written.
    """
    gc.set_threshold(*GC_THRESHOLD)
    status = [1]  # what Python itself exits with after an uncaught exception

    def exit_now() -> None:
        for stream in (sys.stdout, sys.stderr):
            # the reader went away (`sophia validate | head`), or the stream is closed: nothing to say
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status[0])

    atexit.register(exit_now)
    try:
        yield
    except SystemExit as exc:
        status[0] = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    except KeyboardInterrupt:
        status[0] = 130
        raise
    else:
        status[0] = 0
