"""The policy engine: every rule, waivers and `run_policy`.

A rule (`rule.Rule`) is an id, a one-line explanation, a fix hint and a check over the whole set of
resources (most rules look at one resource at a time; a few, like default-deny per namespace, need
the set); the rule modules define them.
An object waives a rule for itself with the annotation `sophia.ai/waive.<RULE-ID>: <reason>`;
the finding is then reported as waived and does not fail the run. A waiver without a written
reason, or for a rule that does not exist, is itself a finding (SOPHIA-WAIVE-001, not waivable).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from sophia.values import FieldPath

from .documents import Loaded, Resource, locate, read_paths
from .report import Finding, Report, make_report
from .rule import PolicyContext, Rule
from .rules_objects import RULES as OBJECT_RULES
from .rules_pods import RULES as POD_RULES
from .rules_values import RULES as VALUE_RULES

WAIVER_PREFIX = "sophia.ai/waive."
WAIVER_RULE = "SOPHIA-WAIVE-001"


def all_rules() -> tuple[Rule, ...]:
    """Every rule, in report order."""
    return (*POD_RULES, *VALUE_RULES, *OBJECT_RULES)


def run_policy(
    paths: Sequence[str | Path],
    repo_root: str | Path | None = None,
    *,
    rules: Sequence[Rule] | None = None,
) -> Report:
    """Run the policy rules over every YAML document under `paths` (raises `UsageError` for a bad path)."""
    context = PolicyContext(Path(repo_root) if repo_root is not None else None)
    return policy_loaded(read_paths(paths), context, rules)


def policy_loaded(loaded: Loaded, context: PolicyContext, rules: Sequence[Rule] | None = None) -> Report:
    """Run the rules over resources already read; unreadable files are reported as they were."""
    chosen = tuple(rules) if rules is not None else all_rules()
    known = {rule.id for rule in all_rules()}
    findings: list[Finding] = list(loaded.problems)
    for rule in chosen:
        for resource, path, message in rule.check(loaded.resources, context):
            findings.append(resource.finding(path, rule.id, message, rule.hint))
    findings = apply_waivers(findings, loaded.resources)
    for resource in loaded.resources:
        findings.extend(_waiver_problems(resource, known))
    resources = [(r.file, r.document) for r in loaded.resources]
    return make_report(resources, locate(findings))


def _waiver_reason(resource: Resource, rule_id: str) -> str | None:
    value = resource.annotations.get(WAIVER_PREFIX + rule_id)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _waiver_problems(resource: Resource, known: set[str]) -> Iterable[Finding]:
    for key, value in resource.annotations.items():
        if not isinstance(key, str) or not key.startswith(WAIVER_PREFIX):
            continue
        rule_id = key.removeprefix(WAIVER_PREFIX)
        path: FieldPath = ("metadata", "annotations", key)
        if rule_id not in known or rule_id == WAIVER_RULE:
            yield resource.finding(
                path, WAIVER_RULE, f"waiver for unknown rule {rule_id!r}", "use the id of a policy rule, e.g. SOPHIA-PSS-001"
            )
        elif not isinstance(value, str) or not value.strip():
            yield resource.finding(
                path, WAIVER_RULE, f"waiver of {rule_id} has no written reason", "write why this object may break the rule"
            )


def apply_waivers(findings: Iterable[Finding], resources: Sequence[Resource]) -> list[Finding]:
    """Mark each finding its own object waives (with a written reason) as waived."""
    by_id = {(r.file, r.document): r for r in resources}
    result: list[Finding] = []
    for finding in findings:
        resource = by_id.get(finding.resource)
        reason = None if resource is None or finding.rule == WAIVER_RULE else _waiver_reason(resource, finding.rule)
        result.append(replace(finding, waived=reason) if reason is not None else finding)
    return result
