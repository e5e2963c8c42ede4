"""The freshness gate: does the committed output equal a fresh compile of the definitions?"""

from __future__ import annotations

from pathlib import Path

from sophia.errors import OutputError
from sophia.pipeline import compile_tree
from sophia.write import read_tree


def stale_files(environments: Path, out: Path) -> list[tuple[str, str]]:
    """`[(status, path)]` for every file that differs: missing, extra or changed."""
    if not out.is_dir():
        raise OutputError(f"{out} does not exist or is not a folder; run `make synth` first")
    wanted = {p: t.encode() for p, t in compile_tree(environments).items()}
    current = read_tree(out)
    diff = [("missing", p) for p in sorted(set(wanted) - set(current))]
    diff += [("extra", p) for p in sorted(set(current) - set(wanted))]
    diff += [("changed", p) for p in sorted(set(wanted) & set(current)) if wanted[p] != current[p]]
    return sorted(diff, key=lambda d: d[1])
