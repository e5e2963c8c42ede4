"""The jsii runtime, started early and once.

Starting the jsii runtime (cdk8s's Node.js processes) costs ~0.5 s, mostly waiting for Node.js.
`main.py`, `sophia synth` and `sophia check` call `start()` before importing the rest of sophia
(pydantic's models alone take ~0.3 s to build), so the two overlap; `pipeline.compile_tree` joins
it (and starts it, for `sophia diff` and library callers).
"""

from __future__ import annotations

import importlib
import os
import threading

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
