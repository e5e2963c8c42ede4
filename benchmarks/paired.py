"""Paired runs: is this working tree faster or slower than another commit? Prints figures, never a test.

    .venv/bin/python benchmarks/paired.py BASE [--work REF] [--runs 15] [--cases real-synth,real-validate,4k-synth,4k-validate]

BASE (a commit, branch or tag) is checked out into a temporary git worktree, and so is `--work`
when given (otherwise the working tree is measured); both trees run with
the same virtual environment (`python -m sophia` with the tree first on `PYTHONPATH`), so only
sophia's own code differs. For each case the two commands run alternately (base, work, base,
work, ...), each on a fresh output folder, so that the machine's slow and fast stretches fall on
both alike. The figure is the median of each side and the median of the per-pair differences;
a change is said to pay when that difference is at least `--threshold` (default 5 %) of the base's
median, which is what issue #18 asks of every speed mechanism.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import ENV, REPO, generate, set_aside  # noqa: E402

PYTHON = REPO / ".venv" / "bin" / "python"
CASES = ("real-synth", "real-edit", "real-validate", "4k-synth", "4k-validate")
"""`*-synth` writes a fresh output folder; `real-edit` re-synthesizes an existing one after a one-line
edit of the environments (what a person does all day: most files unchanged); `*-validate` checks one."""


def worktree(base: str, root: Path, name: str) -> Path:
    """A detached worktree of `base` under `root`, with its bytecode compiled (as `make setup` does)."""
    tree = root / name
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(tree), base], check=True)
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", "sophia"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    return tree


def command(tree: Path, args: list[str]) -> Callable[[Path], float]:
    """A runner of `python -m sophia ARGS` from `tree` in a work folder; returns wall seconds."""
    env = {**ENV, "PYTHONPATH": str(tree)}

    def run(cwd: Path) -> float:
        start = time.perf_counter()
        done = subprocess.run([str(PYTHON), "-m", "sophia", *args], cwd=cwd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode not in (0, 1) or (args[0] == "synth" and done.returncode != 0):
            raise SystemExit(f"{tree}: sophia {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return seconds

    return run


def pair(label: str, base: Callable[[Path], float], work: Callable[[Path], float], cwd: Path, runs: int,
         before: Callable[[], None], threshold: float) -> None:
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        before()
        a.append(base(cwd))
        before()
        b.append(work(cwd))
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    ma, mb, md = statistics.median(a), statistics.median(b), statistics.median(diffs)
    share = md / ma * 100
    faster = sum(1 for d in diffs if d > 0)
    verdict = "pays" if share >= threshold else ("costs" if share <= -threshold else "no difference")
    print(f"  {label:<14} base {ma:6.3f} s  work {mb:6.3f} s  paired diff {md:+.3f} s ({share:+.1f} %), "
          f"work faster in {faster}/{runs}: {verdict} (threshold {threshold:g} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="commit, branch or tag to compare the working tree with")
    parser.add_argument("--work", help="commit to measure instead of the working tree")
    parser.add_argument("--runs", type=int, default=15, help="pairs per case (the issue asks for at least 15)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from {', '.join(CASES)}")
    parser.add_argument("--threshold", type=float, default=5.0, help="share of the base's time a change must save")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        raise SystemExit(f"unknown cases: {', '.join(sorted(unknown))}")

    root = Path(tempfile.mkdtemp(prefix="sophia-paired-"))
    try:
        tree = worktree(args.base, root, "base")
        if args.work:
            work = worktree(args.work, root, "work")
            what = f"{args.work}"
        else:
            work = REPO
            head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
            what = f"the working tree (HEAD {head}{', modified' if _dirty() else ''})"
        print(f"paired runs: base {args.base} vs {what}, {args.runs} pairs per case, {os.cpu_count()} CPUs")
        platforms = {"real": REPO / "environments"}
        if any(c.startswith("4k") for c in cases):
            platforms["4k"] = generate(root / "gen-4k", 133, 4)  # ~4,000 objects (30 per service x environment)
        for name, environments in platforms.items():
            work_dir = root / f"run-{name}"
            work_dir.mkdir()
            shutil.copytree(environments, work_dir / "environments")

            def fresh(folder: Path = work_dir) -> None:
                set_aside(folder / "dist")

            synth = ["synth", "--environments", "environments", "--out", "dist"]
            if f"{name}-synth" in cases:
                pair(f"{name} synth", command(tree, synth), command(work, synth), work_dir, args.runs, fresh, args.threshold)
            if f"{name}-edit" in cases:
                command(work, synth)(work_dir)
                catalog = work_dir / "environments" / "catalog.yaml"
                original = catalog.read_text()
                edited = original.replace("LOG_LEVEL: info", "LOG_LEVEL: warning", 1)
                assert edited != original, "the catalogue has no LOG_LEVEL: info to edit"
                flip = iter(range(10**6))

                def edit(path: Path = catalog, texts: tuple[str, str] = (original, edited), turns: Any = flip) -> None:
                    path.write_text(texts[next(turns) % 2])

                pair(f"{name} edit", command(tree, synth), command(work, synth), work_dir, args.runs, edit, args.threshold)
                catalog.write_text(original)
            if f"{name}-validate" in cases:
                command(work, synth)(work_dir)
                validate = ["validate", "dist", "--repo-root", str(work_dir)]
                pair(f"{name} validate", command(tree, validate), command(work, validate), work_dir, args.runs,
                     lambda: None, args.threshold)
    finally:
        for name in ("base", "work"):
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(root / name)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


def _dirty() -> bool:
    status = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "sophia"], capture_output=True, text=True)
    return bool(status.stdout.strip())


if __name__ == "__main__":
    main()
