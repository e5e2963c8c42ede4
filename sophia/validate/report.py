"""What a check found (`Finding`), a run's result (`Report`) and how both are printed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sophia.values import FieldPath, dotted

SCHEMA_RULE = "SCHEMA"
CEL_RULE = "CEL"
API_RULE = "API"
API_WARNING_RULE = "API-WARNING"
ARGOCD_RULE = "ARGOCD"
"""The rule ids of the verdicts: what the API server (schemas, CEL rules, its own rules and admission, its
warnings) and Argo CD answer. No `sophia.ai/waive.*` annotation applies to them."""

ResourceId = tuple[str, int]
"""(file, document number); document 0 stands for a whole file that could not be read."""


@dataclass(frozen=True)
class Finding:
    """One problem with one resource (or with a whole file when `document` is 0)."""

    file: str
    document: int
    kind: str
    name: str
    path: FieldPath
    rule: str
    message: str
    hint: str = ""
    line: int | None = None
    waived: str | None = None
    """The written reason when an object waived this finding for itself; None otherwise."""

    @property
    def resource(self) -> ResourceId:
        return (self.file, self.document)

    @property
    def field(self) -> str:
        return dotted(self.path)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        return (self.file, self.document, self.line or 0, self.field, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "document": self.document,
            "kind": self.kind,
            "name": self.name,
            "path": self.field,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "waived": self.waived,
        }

    def render(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.kind}/{self.name or '(no name)'}" if self.kind else "-"
        doc = f" (document {self.document})" if self.document else ""
        field_text = f" {self.field}:" if self.path else ""
        status = f"WAIVED ({self.waived})" if self.waived is not None else "ERROR"
        text = f"{status} {where}{doc} {what} [{self.rule}]{field_text} {self.message}"
        if self.hint and self.waived is None:
            text += f"\n    hint: {self.hint}"
        return text


@dataclass(frozen=True)
class Unevaluated:
    """A CEL rule of a CRD that was not evaluated on some objects, and why."""

    kind: str
    rule: str
    reason: str
    objects: int

    def render(self) -> str:
        return f"NOT EVALUATED {self.kind}: {self.rule} -- {self.reason} ({self.objects} object(s))"


@dataclass(frozen=True)
class Report:
    """Every resource a run looked at, every finding (waived or not), and the CEL rules not evaluated."""

    resources: frozenset[ResourceId] = frozenset()
    findings: tuple[Finding, ...] = field(default=())
    unevaluated: tuple[Unevaluated, ...] = ()
    evaluated_rules: int = 0
    """CEL rule evaluations made (one rule on one object counts once)."""

    def merge(self, other: Report) -> Report:
        merged = make_report(self.resources | other.resources, (*self.findings, *other.findings))
        return replace(merged, unevaluated=merge_unevaluated((*self.unevaluated, *other.unevaluated)),
                       evaluated_rules=self.evaluated_rules + other.evaluated_rules)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived is None)

    @property
    def waived(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived is not None)

    @property
    def invalid(self) -> int:
        return len({f.resource for f in self.errors})

    @property
    def valid(self) -> int:
        return len(self.resources) - self.invalid

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = f"{len(self.resources)} resources, {self.valid} valid, {self.invalid} invalid, {len(self.errors)} errors"
        if self.waived:
            text += f", {len(self.waived)} waived"
        if self.evaluated_rules or self.unevaluated:
            text += f"; CEL rules: {self.evaluated_rules} evaluated, {sum(u.objects for u in self.unevaluated)} not evaluated"
        return text


def make_report(resources: Iterable[ResourceId], findings: Iterable[Finding]) -> Report:
    """A report whose findings are sorted and free of duplicates; every finding's resource is counted."""
    found = sorted(set(findings), key=Finding.sort_key)
    return Report(frozenset(resources) | {f.resource for f in found}, tuple(found))


def merge_unevaluated(items: Iterable[Unevaluated]) -> tuple[Unevaluated, ...]:
    """One entry per (kind, rule, reason), counting objects."""
    counts: dict[tuple[str, str, str], int] = {}
    for item in items:
        key = (item.kind, item.rule, item.reason)
        counts[key] = counts.get(key, 0) + item.objects
    return tuple(Unevaluated(k, r, why, n) for (k, r, why), n in sorted(counts.items()))


def with_line(finding: Finding, line: int | None) -> Finding:
    return replace(finding, line=line)


def render_text(report: Report) -> str:
    lines = [f.render() for f in report.findings]
    lines.extend(u.render() for u in report.unevaluated)
    lines.append(report.summary())
    return "\n".join(lines)


def render_json(report: Report) -> str:
    body = {
        "summary": {
            "resources": len(report.resources),
            "valid": report.valid,
            "invalid": report.invalid,
            "errors": len(report.errors),
            "waived": len(report.waived),
            "cel_rules_evaluated": report.evaluated_rules,
        },
        "findings": [f.as_dict() for f in report.findings],
        "not_evaluated": [
            {"kind": u.kind, "rule": u.rule, "reason": u.reason, "objects": u.objects} for u in report.unevaluated
        ],
    }
    return json.dumps(body, indent=2, sort_keys=True)
