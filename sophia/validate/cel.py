"""`x-kubernetes-validations`: CEL rules of CRDs, evaluated as the API server evaluates them on create.

Rules are compiled once per expression by a maintained CEL library (`common-expression-language`,
Rust's `cel` crate). Kubernetes adds functions of its own (lists, strings, regex, URLs, quantities,
IPs, formats, semver...); a rule calling one the library lacks is not evaluated and is reported as
such, with the function named, never passed silently. Transition rules (those that read `oldSelf`)
only apply when an object is updated, so a check of objects to create reports them as not
evaluated too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

STANDARD_FUNCTIONS = frozenset({
    "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string", "bytes", "type",
    "dyn", "duration", "timestamp", "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getFullYear",
    "getHours", "getMilliseconds", "getMinutes", "getMonth", "getSeconds",
})
"""The functions of standard CEL that the library implements (tests/test_cel.py checks each one)."""

_OPERATOR = re.compile(r"^_.*_$|^!_$|^-_$")
_OLD_SELF = re.compile(r"\boldSelf\b")


@dataclass(frozen=True)
class Rule:
    """One `x-kubernetes-validations` entry, compiled; `unavailable` says why it cannot be evaluated."""

    expression: str
    message: str
    message_expression: str
    field_path: str
    program: Any
    unavailable: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of one rule on one value: passed, failed (with the message), or not evaluated."""

    passed: bool
    message: str = ""
    not_evaluated: str = ""


def rule_of(entry: Mapping[str, Any]) -> Rule:
    """The compiled form of one `x-kubernetes-validations` entry (cached by its text)."""
    return _compile(
        str(entry.get("rule", "")), str(entry.get("message", "") or ""),
        str(entry.get("messageExpression", "") or ""), str(entry.get("fieldPath", "") or ""),
    )


@lru_cache(maxsize=1024)
def _compile(expression: str, message: str, message_expression: str, field_path: str) -> Rule:
    import cel  # ~0.2 s to import (its package loads a command line too): only when a rule applies

    if _OLD_SELF.search(expression):
        return Rule(expression, message, message_expression, field_path, None,
                    "a transition rule (reads oldSelf): the API server applies it when the object is updated")
    try:
        program = cel.compile(expression)
    except ValueError as exc:
        return Rule(expression, message, message_expression, field_path, None, f"the CEL library cannot parse it: {exc}")
    missing = sorted(f for f in program.functions() if not _OPERATOR.match(f) and f not in STANDARD_FUNCTIONS)
    if missing:
        names = ", ".join(f"{name}()" for name in missing)
        return Rule(expression, message, message_expression, field_path, None,
                    f"uses Kubernetes CEL functions the library lacks: {names}")
    return Rule(expression, message, message_expression, field_path, program)


def evaluate(rule: Rule, value: Any) -> Outcome:
    """Evaluate `rule` with `self` bound to `value`."""
    if rule.program is None:
        return Outcome(True, not_evaluated=rule.unavailable)
    try:
        result = rule.program.execute({"self": value})
    except Exception as exc:  # noqa: BLE001 - the library raises plain RuntimeErrors for evaluation errors
        text = str(exc)
        if "Undefined variable or function" in text:
            return Outcome(True, not_evaluated=f"the CEL library cannot evaluate it: {text.split('.')[0]}")
        return Outcome(False, f"evaluation error: {text}")
    if result is True:
        return Outcome(True)
    if result is not False:
        return Outcome(False, f"the rule must give a boolean, not {result!r}")
    return Outcome(False, _message(rule, value))


def _message(rule: Rule, value: Any) -> str:
    if rule.message_expression:
        import cel

        try:
            text = cel.compile(rule.message_expression).execute({"self": value})
            if isinstance(text, str) and text.strip():
                return text
        except Exception:  # noqa: BLE001, S110 - the API server falls back to the message likewise
            pass
    return rule.message or f"failed rule: {rule.expression}"
