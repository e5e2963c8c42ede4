"""Golden tests: each fixture environments folder compiles to its committed golden tree.

Refresh with `make update-golden` after an intended change, and review the diff.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from sophia.pipeline import compile_tree
from sophia.write import read_tree

FIXTURES = Path(__file__).parent / "fixtures" / "envs"
GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_fixture_matches_golden(case: str) -> None:
    files = compile_tree(FIXTURES / case)
    golden_dir = GOLDEN / case
    if os.environ.get("SOPHIA_UPDATE_GOLDEN"):
        from sophia.write import write_tree

        golden_dir.parent.mkdir(parents=True, exist_ok=True)
        write_tree(files, golden_dir)
    golden = {p: b.decode() for p, b in read_tree(golden_dir).items()}
    if golden == files:
        return
    report: list[str] = []
    for path in sorted(set(golden) | set(files)):
        old, new = golden.get(path, ""), files.get(path, "")
        if old != new:
            report.extend(difflib.unified_diff(old.splitlines(), new.splitlines(), f"golden/{path}", f"compiled/{path}", lineterm=""))
    pytest.fail(
        f"{case}: compiled output differs from tests/golden/{case}; if the change is intended, run "
        "`make update-golden` and review the diff\n" + "\n".join(report[:200])
    )
