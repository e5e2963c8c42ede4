"""The error hierarchy: every problem a user can fix is a `Problem`, reported together.

`SophiaError` is the root. A `SpecError` carries every problem found while loading or compiling
environment definitions, each with the file, line and field path it came from, so the CLI can
print them all at once as ``file:line: field.path: message`` plus a hint -- never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int | None
    path: str
    message: str
    hint: str = ""

    def render(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.path}:" if self.path else ""
        text = f"{where}:{field} {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class SophiaError(Exception):
    """Root of every error sophia reports on purpose (exit status 1 or 2, no traceback)."""

    exit_code = 1

    def render(self, out: PurePath | None = None) -> str:
        """The text the CLI prints; `out` is the output folder the command left alone, if it has one."""
        return str(self)


class SpecError(SophiaError):
    """The environment definitions are wrong; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.path, p.message))
        super().__init__(f"{len(self.problems)} problem(s) in the environment definitions")

    def render(self, out: PurePath | None = None) -> str:
        lines = [p.render() for p in self.problems]
        footer = f"error: {len(self.problems)} problem(s) found"
        if out is not None:
            footer += f"; {out.as_posix().rstrip('/')}/ was not changed"
        lines.append(footer)
        return "\n".join(lines)


class CompileError(SpecError):
    """The definitions are well-formed but cannot be compiled (capacity, cycles, ...)."""


class OutputError(SophiaError):
    """The output folder cannot be written (read-only, locked, not a folder)."""

    exit_code = 2
