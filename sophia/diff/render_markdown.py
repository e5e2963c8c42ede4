"""A `DiffReport` as Markdown for a pull-request comment: risks, a summary table, collapsible diffs."""

from __future__ import annotations

import re
from html import escape

from sophia.diff.engine import DiffReport, Relabelled
from sophia.diff.model import Change

SIGNS = {"added": "➕ added", "changed": "✏️ changed", "removed": "➖ removed"}
GITHUB_COMMENT_LIMIT = 65_536


def render_markdown(report: DiffReport, *, max_chars: int = GITHUB_COMMENT_LIMIT - 1_536) -> str:
    """Risks with hints at the top, one table row per (environment, application), then details per application.

    When the whole text would exceed `max_chars` (a GitHub comment holds 65,536), the diffs are left
    out and a note says so; risks, the table and the list of objects always stay.
    """
    text = _render(report, diffs=True)
    if len(text) <= max_chars:
        return text
    return _render(report, diffs=False)


def _render(report: DiffReport, *, diffs: bool) -> str:
    out = [f"## sophia diff: `{report.old_label}` → {report.new_label}", ""]
    if not report.has_differences:
        out.append("No differences: Argo CD has nothing to sync.")
        return "\n".join(out) + "\n"
    if report.risks:
        out += [f"### ⚠️ Risks ({len(report.risks)})", ""]
        for risk in report.risks:
            out.append(f"- **{risk.code}** `{risk.env}/{risk.app or '.'}` {_code(risk.key.label())}: {_text(risk.message)}  ")
            out.append(f"  _hint:_ {_text(risk.hint)}")
        out.append("")
    if not diffs:
        out += ["> [!NOTE]", "> The diffs are left out to fit in one comment; run `sophia diff` locally to see them.", ""]
    out += ["### Summary", "", "| Environment | Application | Added | Changed | Removed | Risks |", "|---|---|---:|---:|---:|---:|"]
    for row in report.summary():
        risks = f"⚠️ {row.risks}" if row.risks else "0"
        out.append(f"| {row.env} | {row.app or '.'} | {row.added} | {row.changed} | {row.removed} | {risks} |")
    for env in report.environments():
        out += ["", f"### {env}"]
        for app in report.apps(env):
            changes = report.changes_of(env, app)
            if not changes:
                continue
            counts = ", ".join(f"{n} {status}" for status in ("added", "changed", "removed")
                               if (n := sum(c.status == status for c in changes)))
            n_risks = len(report.risks_of(env, app))
            risk_note = f", ⚠️ {n_risks} risk(s)" if n_risks else ""
            out += ["", f"<details><summary><code>{escape(app or '.')}</code>: {counts}{risk_note}</summary>", ""]
            full, relabelled = report.details(env, app)
            out += [_relabelled(group) for group in relabelled]
            for change in full:
                out += _change(change, diffs)
            out += ["</details>"]
    return "\n".join(out) + "\n"


def _change(change: Change, diffs: bool) -> list[str]:
    line = f"- {SIGNS[change.status]} {_code(change.key.label())}"
    if change.status == "removed":
        line += " (Argo CD will prune it)"
    if change.moved and change.old is not None and change.new is not None:
        line += f" (moved from `{change.old.path}` to `{change.new.path}`)"
    out = [line]
    if diffs and change.diff:
        fence = "`" * max(3, 1 + max((len(run) for ln in change.diff for run in re.findall(r"`+", ln)), default=0))
        out += ["", f"{fence}diff", *change.diff, fence, ""]
    return out


def _relabelled(group: Relabelled) -> str:
    """One list item for the label-only changes of a service."""
    who = f"{_code(group.service)}: " if group.service else ""
    return f"- {SIGNS['changed']} {who}{_text(group.describe())}"


def _code(text: str) -> str:
    return f"`{text}`"


def _text(text: str) -> str:
    """Plain text for a Markdown line: no HTML, no accidental tables."""
    return escape(text, quote=False).replace("|", "\\|")
