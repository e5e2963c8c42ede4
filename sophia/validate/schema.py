"""Schema validation of resources: every error of every document, worded for people."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema_rs

from .apiserver import api_problems
from .catalog import SchemaCatalog
from .documents import Loaded, Resource, locate, read_paths
from .report import Finding, Report, make_report
from .settings import crd_location_from_env

RULE = "SCHEMA"
API_RULE = "API"
API_WARNING_RULE = "API-WARNING"
_API_HINT = "a Kubernetes 1.33 API server refuses this object (server-side dry run)"
_API_WARNING_HINT = "the API server accepts it with this warning; dist/ promises neither rejections nor warnings"


def validate_paths(
    paths: Sequence[str | Path],
    schema_location: str | Path | None = None,
    *,
    catalog: SchemaCatalog | None = None,
) -> Report:
    """Schema-check every YAML document under `paths`.

    `schema_location` is the CRD catalog folder; when None, `SOPHIA_CRD_SCHEMAS` is used.
    Raises `UsageError` for a path that does not exist and `CatalogError` for a missing catalog.
    """
    if catalog is None:
        location = Path(schema_location) if schema_location is not None else crd_location_from_env()
        catalog = SchemaCatalog(location)
    return validate_loaded(read_paths(paths), catalog)


def validate_loaded(loaded: Loaded, catalog: SchemaCatalog) -> Report:
    """Schema-check resources already read; findings carry line numbers."""
    findings: list[Finding] = list(loaded.problems)
    for resource in loaded.resources:
        findings.extend(validate_resource(resource, catalog))
    resources = [(r.file, r.document) for r in loaded.resources]
    return make_report(resources, locate(findings))


def validate_resource(resource: Resource, catalog: SchemaCatalog) -> list[Finding]:
    """Every schema error of one resource (no line numbers: see `documents.locate`)."""
    data = resource.data
    if not isinstance(data, dict):
        return [resource.finding((), RULE, f"a manifest must be a mapping, not {_type_name(data)}")]
    missing = [key for key in ("apiVersion", "kind") if not isinstance(data.get(key), str) or not data.get(key)]
    if missing:
        return [
            resource.finding((key,), RULE, f"missing {key}", "every manifest needs apiVersion and kind")
            for key in missing
        ]
    lookup = catalog.lookup(resource.api_version, resource.kind)
    if lookup.validator is None:
        return [resource.finding((), RULE, lookup.problem, "check apiVersion and kind, or add the CRD schema")]
    return list(_errors(resource, lookup.validator)) or list(api_findings(resource))


def api_findings(resource: Resource) -> Iterator[Finding]:
    """The API server's rules beyond the schema (`sophia.validate.apiserver`), for a schema-valid object.

    An object the schema refuses would not reach them: the API server stops at decoding.
    """
    for path, message, is_warning in api_problems(resource):
        if is_warning:
            yield resource.finding(path, API_WARNING_RULE, message, _API_WARNING_HINT)
        else:
            yield resource.finding(path, API_RULE, message, _API_HINT)


def _errors(resource: Resource, validator: jsonschema_rs.Validator) -> Iterable[Finding]:
    try:
        errors = list(validator.iter_errors(resource.data))
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
            yield resource.finding(path, RULE, _type_message(kind.types, error.instance))
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
