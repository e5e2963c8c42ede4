"""The jsii runtime (cdk8s's Node.js processes), started once, in the background, as early as possible.

Starting it costs ~0.5 s, mostly waiting for Node.js. The entry points that compile (`main.py`,
`sophia synth`, `check`, `diff`) call `start()` before importing the rest of sophia (pydantic's
models alone take ~0.3 s to build), so the two overlap; `pipeline.compile_tree` joins it.
"""

from __future__ import annotations

import importlib
import os
import threading

_thread: threading.Thread | None = None


def start() -> threading.Thread:
    """Start importing cdk8s (which starts the runtime) in a daemon thread; the same thread on later calls."""
    global _thread
    if _thread is None:
        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        _thread = threading.Thread(target=importlib.import_module, args=("cdk8s",), name="jsii-start", daemon=True)
        _thread.start()
    return _thread
