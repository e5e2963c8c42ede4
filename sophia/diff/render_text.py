"""A `DiffReport` as terminal text: risks first, then environment > application > object, with diffs."""

from __future__ import annotations

from typing import Any

import click

from sophia.diff.engine import DiffReport, Relabelled
from sophia.diff.model import Change

SIGNS = {"added": "+", "changed": "~", "removed": "-"}
COLOURS = {"added": "green", "changed": "yellow", "removed": "red"}


def render_text(report: DiffReport, *, color: bool = True) -> str:
    """The whole report; ANSI colours only when `color` (click.echo strips them again off a terminal)."""

    def s(text: str, **styles: Any) -> str:
        return click.style(text, **styles) if color else text

    lines = [s(f"sophia diff: {report.old_label} -> {report.new_label}", bold=True)]
    if not report.has_differences:
        lines.append("no differences")
        return "\n".join(lines) + "\n"
    if report.risks:
        lines += ["", s(f"Risks ({len(report.risks)}):", bold=True, fg="red")]
        for risk in report.risks:
            where = f"{risk.env}/{risk.app or '.'}"
            lines.append(f"  {s('!', fg='red', bold=True)} {where}  {risk.key.label()}  {s(f'[{risk.code}]', fg='red')}")
            lines.append(f"      {risk.message}")
            lines.append(s(f"      hint: {risk.hint}", dim=True))
    for env in report.environments():
        lines += ["", s(env, bold=True, underline=True)]
        for app in report.apps(env):
            changes = report.changes_of(env, app)
            if not changes:
                continue
            lines.append(s(f"  {app or '.'}/", bold=True))
            full, relabelled = report.details(env, app)
            lines += [_relabelled(group, s) for group in relabelled]
            for change in full:
                lines += _change(change, s)
    lines += ["", _totals(report)]
    return "\n".join(lines) + "\n"


def _change(change: Change, s: Any) -> list[str]:
    colour = COLOURS[change.status]
    head = f"    {s(SIGNS[change.status], fg=colour, bold=True)} {s(change.key.label(), fg=colour)}"
    if change.status == "removed":
        head += "  (Argo CD will prune it)"
    elif change.status == "added":
        head += "  (new)"
    if change.moved and change.old is not None:
        head += f"  (moved from {change.old.path})"
    out = [head]
    if change.fields:
        shown = ", ".join(change.fields[:6]) + (f" (+{len(change.fields) - 6} more)" if len(change.fields) > 6 else "")
        out.append(s(f"      fields: {shown}", dim=True))
    for line in change.diff:
        if line.startswith(("---", "+++")):
            out.append("      " + s(line, bold=True))
        elif line.startswith("@@"):
            out.append("      " + s(line, fg="cyan"))
        elif line.startswith("+"):
            out.append("      " + s(line, fg="green"))
        elif line.startswith("-"):
            out.append("      " + s(line, fg="red"))
        else:
            out.append("      " + line)
    return out


def _relabelled(group: Relabelled, s: Any) -> str:
    """`~ api: 8 objects: only labels changed (...)`, one line for the label-only changes of a service."""
    who = f"{group.service}: " if group.service else ""
    return f"    {s(SIGNS['changed'], fg=COLOURS['changed'], bold=True)} {s(who, fg=COLOURS['changed'])}{group.describe()}"


def _totals(report: DiffReport) -> str:
    rows = report.summary()
    added, changed, removed = (sum(getattr(r, f) for r in rows) for f in ("added", "changed", "removed"))
    envs = len(report.environments())
    return f"{added} added, {changed} changed, {removed} removed, {len(report.risks)} risk(s) in {envs} environment(s)"
