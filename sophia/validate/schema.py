"""Schema validation of resources: every error of every document, worded for people."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema_rs

from . import admission, argocd
from .apiserver import api_problems
from .catalog import SchemaCatalog
from .crd_schema import apply_defaults, schema_checks
from .crds import CrdCatalog, CrdVersion
from .documents import Loaded, Resource, locate, read_paths
from .report import (
    API_RULE,
    API_WARNING_RULE,
    CEL_RULE,
    SCHEMA_RULE,
    Finding,
    Report,
    ResourceId,
    Unevaluated,
    make_report,
    merge_unevaluated,
)
from .rule import PolicyContext

RULE = SCHEMA_RULE
_API_HINT = "a Kubernetes 1.33 API server refuses this object (server-side dry run)"
_API_WARNING_HINT = "the API server accepts it with this warning; dist/ promises neither rejections nor warnings"


def validate_paths(
    paths: Sequence[str | Path],
    crds: CrdCatalog | None = None,
    *,
    catalog: SchemaCatalog | None = None,
    context: PolicyContext | None = None,
) -> Report:
    """The verdict on every YAML document under `paths` (custom resources against `crds`).

    Raises `UsageError` for a path that does not exist.
    """
    return validate_loaded(read_paths(paths), catalog or SchemaCatalog(crds), context)


def validate_loaded(loaded: Loaded, catalog: SchemaCatalog, context: PolicyContext | None = None) -> Report:
    """The verdict on resources already read, object by object (schemas, CRDs, the API server's rules), then
    across them (PodSecurity admission, Argo CD's projects); findings carry line numbers."""
    findings: list[Finding] = list(loaded.problems)
    unevaluated: list[Unevaluated] = []
    evaluated = 0
    for resource in loaded.resources:
        result = validate_resource(resource, catalog)
        findings.extend(result.findings)
        unevaluated.extend(result.unevaluated)
        evaluated += result.evaluated
    refused = {f.resource for f in findings if f.rule != API_WARNING_RULE}
    findings.extend(set_findings(loaded.resources, catalog, context or PolicyContext(), refused))
    resources = [(r.file, r.document) for r in loaded.resources]
    report = make_report(resources, locate(findings))
    return replace(report, unevaluated=merge_unevaluated(unevaluated), evaluated_rules=evaluated)


def set_findings(resources: Sequence[Resource], catalog: SchemaCatalog, context: PolicyContext,
                 refused: set[ResourceId]) -> Iterator[Finding]:
    """The verdicts that need more than one object: Argo CD's (an Application's project and the objects of its
    folder) and PodSecurity admission's (a pod and its namespace's labels)."""
    placed = argocd.placements(resources, argocd.syncs_of(resources, context))
    yield from argocd.argocd_findings(resources, placed, catalog.namespaced)
    yield from admission.pod_security_findings(resources, refused, argocd.default_namespaces(placed))


@dataclass
class Checked:
    """What checking one resource found."""

    findings: list[Finding] = field(default_factory=list)
    unevaluated: list[Unevaluated] = field(default_factory=list)
    evaluated: int = 0


def validate_resource(resource: Resource, catalog: SchemaCatalog) -> Checked:
    """Every schema error of one resource (no line numbers: see `documents.locate`)."""
    data = resource.data
    if not isinstance(data, dict):
        return Checked([resource.finding((), RULE, f"a manifest must be a mapping, not {_type_name(data)}")])
    missing = [key for key in ("apiVersion", "kind") if not isinstance(data.get(key), str) or not data.get(key)]
    if missing:
        return Checked([
            resource.finding((key,), RULE, f"missing {key}", "every manifest needs apiVersion and kind")
            for key in missing
        ])
    checked = Checked()
    for lookup in catalog.lookup(resource.api_version, resource.kind):
        if lookup.validator is None:
            checked.findings.append(resource.finding((), RULE, lookup.problem, lookup.hint))
        elif lookup.crd is None:
            checked.findings.extend(_errors(resource, data, lookup.validator))
        else:
            _check_custom(resource, lookup.crd, lookup.validator, checked)
    if not checked.findings:
        checked.findings.extend(api_findings(resource))
    return checked


def api_findings(resource: Resource) -> Iterator[Finding]:
    """The API server's rules beyond the schema (`sophia.validate.apiserver`), for a schema-valid object.

    An object the schema refuses would not reach them: the API server stops at decoding.
    """
    for path, message, is_warning in api_problems(resource):
        if is_warning:
            yield resource.finding(path, API_WARNING_RULE, message, _API_WARNING_HINT)
        else:
            yield resource.finding(path, API_RULE, message, _API_HINT)


def _check_custom(resource: Resource, crd: CrdVersion, validator: jsonschema_rs.Validator, checked: Checked) -> None:
    """A custom resource as the API server checks it: defaults, then the schema, list types and CEL rules."""
    of = f" ({crd.describe()})"
    if not crd.namespaced and resource.namespace:
        checked.findings.append(resource.finding(("metadata", "namespace"), RULE,
                                                 f"{crd.kind} is cluster-scoped: it takes no namespace{of}"))
    data = apply_defaults(crd.schema, resource.data)
    checked.findings.extend(replace(f, message=f.message + of) for f in _errors(resource, data, validator))
    found, evaluated = schema_checks(crd.schema, data)
    checked.evaluated += evaluated
    for path, message, reason in found:
        if reason:
            checked.unevaluated.append(Unevaluated(f"{crd.kind} {crd.api_version}", message, reason, 1))
        elif message.startswith("Duplicate value"):
            checked.findings.append(resource.finding(path, RULE, message + of))
        else:
            checked.findings.append(resource.finding(path, CEL_RULE, message + of))


def _errors(resource: Resource, data: Any, validator: jsonschema_rs.Validator) -> Iterable[Finding]:
    try:
        errors = list(validator.iter_errors(data))
    except ValueError as exc:  # a value JSON cannot hold (e.g. a date object)
        yield resource.finding((), RULE, f"cannot be checked: {exc}")
        return
    for error in errors:
        path = tuple(error.instance_path)
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            for key in kind.unexpected:
                yield resource.finding((*path, key), RULE, f'unknown field "{key}"', "remove it or fix its spelling")
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            yield resource.finding(path, RULE, f'missing required field "{kind.property}"')
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
            hint = ""
            if "string" in str(kind.types) and isinstance(error.instance, (bool, int, float)):
                hint = "quote it: kubectl and Argo CD read a plain yes/no/on/off/y/n/true/false as a boolean, digits as a number"
            yield resource.finding(path, RULE, _type_message(kind.types, error.instance), hint)
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
            options = ", ".join(repr(o) for o in kind.options)
            yield resource.finding(path, RULE, f"{error.instance!r} is not one of {options}")
        else:
            yield resource.finding(path, RULE, error.message)


def _type_message(types: Any, instance: Any) -> str:
    wanted = [t for t in (types if isinstance(types, list) else [types]) if t != "null"] or ["null"]
    got = _type_name(instance)
    shown = f" {instance!r}" if isinstance(instance, (str, int, float, bool)) else ""
    return f"expected {' or '.join(wanted)}, got {got}{shown}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
