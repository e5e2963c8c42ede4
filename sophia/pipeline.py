"""The pipeline, seam by seam: load -> build -> render -> write.

`compile_tree` runs the pure part (no output is touched) and is what `check`, `diff` and the
benchmarks call; `synth` adds the write. `main.py` (the cdk8s app) and `sophia synth` both call
`synth`, so both entry points produce the same `dist/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sophia.model.loader import Platform, load
from sophia.runtime import start as runtime_start
from sophia.write import WriteResult, write_tree


def compile_platform(platform: Platform) -> dict[str, str]:
    """Build and render a loaded platform into `{relative path: text}`."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import cdk8s  # the jsii runtime starts here, after the input is known to be good

    from sophia.build import build
    from sophia.extensions import load_extensions
    from sophia.render import render
    from sophia.reports import reports

    app = cdk8s.App()
    root = build(platform, app, load_extensions())
    files = render(root, app.charts)
    files.update(reports(platform))
    return dict(sorted(files.items()))


def compile_tree(environments: Path) -> dict[str, str]:
    """Load and compile an environments folder; raises `SpecError` listing every problem."""
    runtime = runtime_start()  # usually already started by the entry point
    try:
        platform = load(environments)
    finally:
        runtime.join()  # never leave the runtime half-started behind an error
    return compile_platform(platform)


def synth(
    environments: Path,
    out: Path,
    *,
    on_wait: Callable[[str], None] | None = None,
) -> WriteResult:
    """Compile `environments` and make `out` hold exactly the result, atomically."""
    files = compile_tree(environments)
    return write_tree(files, out, on_wait=on_wait)
