"""The body of `main.py`, the app `cdk8s synth` runs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sophia.errors import SophiaError


def _mirror(out: Path, scratch: Path) -> None:
    """Copy every manifest of `out` into cdk8s's scratch output folder.

    Copies, not hard links: an edit of the scratch copy (a cdk8s plugin, a person) must never edit
    dist/ through a shared inode.
    """
    scratch = scratch.resolve()
    if scratch == out.resolve():
        raise SystemExit("cdk8s.yaml must not use dist/ as its output: cdk8s deletes it before every synth")
    scratch.mkdir(parents=True, exist_ok=True)
    for path in sorted(out.rglob("*.yaml")):
        target = scratch / path.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _shown(out: Path) -> Path:
    """`out` as a user names it: relative to the working folder when inside it (cdk8s runs from the project)."""
    try:
        return out.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return out


def run(environments: Path, out: Path, scratch: str | None) -> int:
    from sophia.runtime import start

    start()  # the jsii runtime starts while sophia's modules load
    from sophia.pipeline import synth

    try:
        result = synth(environments, out, on_wait=lambda msg: print(msg, file=sys.stderr))
    except SophiaError as exc:
        print(exc.render(_shown(out)), file=sys.stderr)
        return exc.exit_code
    print(f"{out.name}: {'written' if result.changed else 'up to date'}", file=sys.stderr)
    if scratch:
        _mirror(out, Path(scratch))
    return 0
