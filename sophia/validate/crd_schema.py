"""A CRD's `openAPIV3Schema` as the API server applies it: defaults, a strict JSON Schema, and the
checks JSON Schema cannot say.

* `apply_defaults`: the API server fills in `default`s before it validates (so CEL rules and
  `required` see them), and drops a null given to a field that is not `nullable` (or replaces it
  by the field's default).
* `strict_schema`: a JSON Schema (draft 4 semantics, as OpenAPI v3.0) that refuses what strict
  field validation refuses: every object that does not carry `x-kubernetes-preserve-unknown-fields`
  is closed (an unknown field is an error), `x-kubernetes-int-or-string` accepts an integer or a
  string, `nullable` admits null, `x-kubernetes-embedded-resource` objects need `apiVersion` and
  `kind` and carry a strict `metadata`, the root's `metadata` is the strict `ObjectMeta`, and the
  formats Kubernetes checks are checked its way (`FORMATS`); other formats are ignored, as there.
* `schema_checks`: list types (`set`, `map` keys) must be unique, and `x-kubernetes-validations`
  (CEL) rules must hold, each at the value its schema node describes.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from sophia.values import FieldPath

from . import cel

OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_SKIPPED = {
    "description", "example", "externalDocs", "default", "nullable", "x-kubernetes-validations",
    "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "format",
}


def _byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _date_time(value: str) -> bool:
    text = value.replace("z", "Z").replace("Z", "+00:00") if value.endswith(("Z", "z")) else value
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in value.upper() or " " in value


def _date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


_DURATION = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w))*$|^0$")
_DURATION_WORDS = re.compile(r"^\d+\s*(ns|us|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?)$")


_HOSTNAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*")


def _ip(value: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(value).version == version
    except ValueError:
        return False


def _cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {
    "k8s-byte": _byte,
    "k8s-date-time": _date_time,
    "k8s-date": _date,
    "k8s-duration": lambda v: bool(_DURATION.match(v) or _DURATION_WORDS.match(v)),
    "k8s-ipv4": lambda v: _ip(v, 4),
    "k8s-ipv6": lambda v: _ip(v, 6),
    "k8s-cidr": _cidr,
    "k8s-uuid": _uuid,
    "k8s-mac": lambda v: bool(re.fullmatch(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", v)),
    "k8s-hostname": lambda v: len(v) <= 255 and bool(_HOSTNAME.fullmatch(v)),
}
"""The string formats the API server checks in CRD schemas, as it checks them (`datetime` is an alias)."""
_FORMAT_NAMES = {name.removeprefix("k8s-"): name for name in FORMATS} | {"datetime": "k8s-date-time"}


def strict_schema(node: dict[str, Any], *, root: bool = True, closed: bool = True) -> dict[str, Any]:
    """The strict JSON Schema of one CRD schema node (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SKIPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: strict_schema(child, root=False, closed=closed) for name, child in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = strict_schema(value, root=False, closed=closed)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            # value validations only: they constrain what the structural schema declares, never open it
            out[key] = [strict_schema(child, root=False, closed=False) for child in value if isinstance(child, dict)]
        elif key == "not" and isinstance(value, dict):
            out[key] = strict_schema(value, root=False, closed=False)
        elif key == "pattern" and isinstance(value, str):
            out[key] = go_pattern(value)
        else:
            out[key] = value
    format_name = _FORMAT_NAMES.get(str(node.get("format", "")))
    if format_name is not None:
        out["format"] = format_name
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    preserve = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string", "minLength": 1})
        props.setdefault("kind", {"type": "string", "minLength": 1})
        props["metadata"] = _metadata(props.get("metadata"))
        out["required"] = sorted({*out.get("required", []), "apiVersion", "kind"})
    if root:
        props = out.setdefault("properties", {})
        props["metadata"] = _metadata(node.get("properties", {}).get("metadata") if isinstance(node.get("properties"), dict) else None)
    is_object = node.get("type") == "object" or "properties" in node
    if closed and is_object and not preserve and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


_INLINE_FLAGS = re.compile(r"\(\?([imsU]+)\)")


def go_pattern(pattern: str) -> str:
    """A CRD `pattern` (Go's RE2 syntax, as the API server reads it) in the syntax the validator reads.

    RE2 lets a flag group `(?i)` stand anywhere and apply to the rest of its group; the validator's
    engine takes flags only as a scoped group, so `^(?i)(abort|warn)?$` becomes
    `^(?i:(abort|warn)?$)`, which matches the same strings. Everything else is the same in both.
    """
    match = _INLINE_FLAGS.search(pattern)
    while match is not None:
        end = _group_end(pattern, match.end())
        pattern = f"{pattern[:match.start()]}(?{match.group(1)}:{pattern[match.end():end]}){pattern[end:]}"
        match = _INLINE_FLAGS.search(pattern, match.start() + 1)
    return pattern


def _group_end(pattern: str, start: int) -> int:
    """The index of the `)` closing the group that holds `start` (or the pattern's end)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(pattern)


def _metadata(declared: Any) -> dict[str, Any]:
    """The strict ObjectMeta, plus whatever the CRD says of name and generateName."""
    if isinstance(declared, dict) and isinstance(declared.get("properties"), dict):
        return {"allOf": [{"$ref": OBJECT_META}, strict_schema(declared, root=False, closed=False)]}
    return {"$ref": OBJECT_META}


def apply_defaults(node: dict[str, Any], value: Any) -> Any:
    """A copy of `value` with the schema's defaults filled in where fields are missing (or null but
    not nullable), and other nulls of fields that are not nullable dropped."""
    value = copy.deepcopy(value)
    _default(node, value)
    return value


def _default(node: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for name, child in props.items():
                if not isinstance(child, dict):
                    continue
                if name in value and value[name] is None and not child.get("nullable"):
                    del value[name]
                if name not in value and "default" in child:
                    value[name] = copy.deepcopy(child["default"])
                if name in value:
                    _default(child, value[name])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if not isinstance(props, dict) or key not in props:
                    _default(extra, item)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for item in value:
            _default(node["items"], item)


def schema_checks(node: dict[str, Any], value: Any, path: FieldPath = ()) -> tuple[list[tuple[FieldPath, str, str]], int]:
    """List-type duplicates and CEL rules over `value`: ([(path, message, not-evaluated reason)], rules evaluated).

    A failure has a message and no reason; a CEL rule that could not be evaluated has a reason
    (and the rule's text as message); a passed rule is only counted.
    """
    found: list[tuple[FieldPath, str, str]] = []
    evaluated = 0
    stack: list[tuple[dict[str, Any], Any, FieldPath]] = [(node, value, path)]
    while stack:
        here, item, where = stack.pop()
        if item is None:
            continue
        found.extend(_list_type(here, item, where))
        for entry in here.get("x-kubernetes-validations") or ():
            rule = cel.rule_of(entry)
            outcome = cel.evaluate(rule, item)
            if outcome.not_evaluated:
                found.append((where, rule.expression, outcome.not_evaluated))
                continue
            evaluated += 1
            if not outcome.passed:
                found.append(((*where, *_field_path(rule.field_path)), f"{outcome.message} (rule: {rule.expression})", ""))
        props = here.get("properties")
        extra = here.get("additionalProperties")
        if isinstance(item, dict):
            for key, child in item.items():
                schema = props.get(key) if isinstance(props, dict) else None
                if schema is None and isinstance(extra, dict):
                    schema = extra
                if isinstance(schema, dict):
                    stack.append((schema, child, (*where, str(key))))
        elif isinstance(item, list) and isinstance(here.get("items"), dict):
            stack.extend((here["items"], child, (*where, i)) for i, child in enumerate(item))
    return found, evaluated


def _list_type(node: dict[str, Any], value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str, str]]:
    kind = node.get("x-kubernetes-list-type")
    if not isinstance(value, list) or kind not in ("set", "map"):
        return
    keys = node.get("x-kubernetes-list-map-keys") or []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if kind == "set":
            key = repr(item)
            shown = repr(item)
        elif isinstance(item, dict):
            key = repr([item.get(k) for k in keys])
            shown = "{" + ", ".join(f'"{k}":{item.get(k)!r}' for k in keys) + "}"
        else:
            continue
        if key in seen:
            yield (*path, i), f"Duplicate value: {shown}", ""
        seen.add(key)


def _field_path(text: str) -> FieldPath:
    """`.spec.foo['bar'][0]` -> ("spec", "foo", "bar", 0): a rule's fieldPath, relative to its node."""
    parts: list[str | int] = []
    for match in re.finditer(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[['\"]([^'\"]*)['\"]\]|\[(\d+)\]", text):
        name, quoted, index = match.groups()
        parts.append(int(index) if index is not None else (name or quoted))
    return tuple(parts)
