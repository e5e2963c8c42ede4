"""The string formats the API server checks, and its error wording.

Each `is_*` function returns the API server's messages for one value (empty when valid), as
Kubernetes 1.33's `k8s.io/apimachinery/pkg/util/validation` words them. `Problem` is one
finding (field path, message, warning?); the helpers below build messages the way
`field.Error` prints them: `Invalid value: "Foo": <detail>`, `Required value`, ...
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from sophia.values import FieldPath

Problem = tuple[FieldPath, str, bool]
"""(field path, message, is_warning) -- what `api_problems` yields."""


class Raw(str):
    """A value printed as is (Go prints `fmt.Stringer` values, such as quantities, unquoted)."""


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one (what the API server reads of an absent field)."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def render(value: Any) -> str:
    """A bad value as `field.Error` prints it: strings quoted, numbers bare, structures as JSON."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def go_map(labels: Any) -> Raw:
    """A `map[string]string` (labels) as Go prints it, keys sorted."""
    items = sorted((str(k), str(v)) for k, v in labels.items()) if isinstance(labels, dict) else []
    return Raw("map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in items) + "}")


def invalid(path: FieldPath, value: Any, detail: str) -> Problem:
    return path, f"Invalid value: {render(value)}: {detail}", False


def invalid_each(path: FieldPath, value: Any, details: Iterable[str]) -> Iterator[Problem]:
    for detail in details:
        yield invalid(path, value, detail)


def required(path: FieldPath, detail: str = "") -> Problem:
    return path, "Required value" + (f": {detail}" if detail else ""), False


def duplicate(path: FieldPath, value: Any) -> Problem:
    return path, f"Duplicate value: {render(value)}", False


def not_found(path: FieldPath, value: Any) -> Problem:
    return path, f"Not found: {render(value)}", False


def not_supported(path: FieldPath, value: Any, supported: Iterable[str]) -> Problem:
    return path, f"Unsupported value: {render(value)}: supported values: " + ", ".join(json.dumps(s) for s in supported), False


def forbidden(path: FieldPath, detail: str) -> Problem:
    return path, f"Forbidden: {detail}", False


def too_long(path: FieldPath, limit: int) -> Problem:
    return path, f"Too long: must have at most {limit} bytes", False


def warning(path: FieldPath, text: str) -> Problem:
    return path, text, True


# --- messages -------------------------------------------------------------------------------------


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(message: str, pattern: str, *examples: str) -> str:
    """`RegexError`: the message, its examples and the regular expression (Go's double space included)."""
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def inclusive_range_error(low: int, high: int) -> str:
    return f"must be between {low} and {high}, inclusive"


NEGATIVE = "must be greater than or equal to 0"

# --- DNS names ------------------------------------------------------------------------------------

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
WILDCARD_FMT = "\\*\\." + DNS1123_SUBDOMAIN_FMT
_LABEL = re.compile(DNS1123_LABEL_FMT, re.ASCII)
_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT, re.ASCII)
_DNS1035 = re.compile(DNS1035_LABEL_FMT, re.ASCII)
_WILDCARD = re.compile(WILDCARD_FMT, re.ASCII)


@lru_cache(maxsize=4096)
def is_dns1123_label(value: str) -> tuple[str, ...]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _LABEL.fullmatch(value):
        if _SUBDOMAIN.fullmatch(value):
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                "and must start and end with an alphanumeric character", DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return tuple(errors)


@lru_cache(maxsize=4096)
def is_dns1123_subdomain(value: str) -> tuple[str, ...]:
    errors = [max_len_error(253)] if len(value) > 253 else []
    if not _SUBDOMAIN.fullmatch(value):
        errors.append(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, "example.com"))
    return tuple(errors)


@lru_cache(maxsize=4096)
def is_dns1035_label(value: str) -> tuple[str, ...]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _DNS1035.fullmatch(value):
        errors.append(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character", DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return tuple(errors)


def is_wildcard_dns1123_subdomain(value: str) -> tuple[str, ...]:
    errors = [max_len_error(253)] if len(value) > 253 else []
    if not _WILDCARD.fullmatch(value):
        errors.append(regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must "
            "consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            WILDCARD_FMT, "*.example.com"))
    return tuple(errors)


def is_path_segment_name(value: str) -> list[str]:
    """`path.IsValidPathSegmentName`: the rule for RBAC object names and object references."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


# --- labels and other qualified names ---------------------------------------------------------------

QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED = re.compile(QUALIFIED_NAME_FMT, re.ASCII)
_QUALIFIED_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"


@lru_cache(maxsize=4096)
def is_qualified_name(value: str) -> tuple[str, ...]:
    """`IsQualifiedName`: label keys, annotation keys (lower-cased), finalizers."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
        errors: list[str] = []
    elif len(parts) == 2:
        prefix, name = parts
        errors = ["prefix part " + m for m in is_dns1123_subdomain(prefix)] if prefix else ["prefix part must be non-empty"]
    else:
        return ("a qualified name " + regex_error(_QUALIFIED_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",)
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part " + max_len_error(63))
    if not _QUALIFIED.fullmatch(name):
        errors.append("name part " + regex_error(_QUALIFIED_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"))
    return tuple(errors)


LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT, re.ASCII)


@lru_cache(maxsize=4096)
def is_label_value(value: str) -> tuple[str, ...]:
    errors = [max_len_error(63)] if len(value) > 63 else []
    if not _LABEL_VALUE.fullmatch(value):
        errors.append(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character", LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return tuple(errors)


def labels(value: Any, path: FieldPath) -> Iterator[Problem]:
    """`ValidateLabels`: every key a qualified name, every value a label value."""
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        yield from invalid_each(path, key, is_qualified_name(str(key)))
        if isinstance(item, str):
            yield from invalid_each(path, item, is_label_value(item))


# --- ports, keys, percentages, networks -----------------------------------------------------------

_PORT_NAME_CHARS = re.compile("[-a-z0-9]+", re.ASCII)


@lru_cache(maxsize=4096)
def is_port_name(value: str) -> tuple[str, ...]:
    """`IsValidPortName`: an IANA service name (container ports, probe and target ports)."""
    errors = [max_len_error(15)] if len(value) > 15 else []
    if not _PORT_NAME_CHARS.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return tuple(errors)


def is_port_number(value: int) -> list[str]:
    return [] if 1 <= value <= 65535 else [inclusive_range_error(1, 65535)]


def port_num_or_name(value: Any, path: FieldPath) -> Iterator[Problem]:
    """`ValidatePortNumOrName`: an IntOrString port."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield from invalid_each(path, value, is_port_number(value))
    elif isinstance(value, str):
        yield from invalid_each(path, value, is_port_name(value))


CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(CONFIG_KEY_FMT, re.ASCII)


@lru_cache(maxsize=4096)
def is_config_key(value: str) -> tuple[str, ...]:
    """`IsConfigMapKey`: keys of ConfigMaps and Secrets, and the keys pods read from them."""
    errors = [max_len_error(253)] if len(value) > 253 else []
    if not _CONFIG_KEY.fullmatch(value):
        errors.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                  CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return tuple(errors)


def is_relaxed_env_name(value: str) -> list[str]:
    """Environment variable names in 1.33 (RelaxedEnvironmentVariableValidation): printable ASCII but '='."""
    if not value:
        return ["environment variable name must be non-empty"]
    if any(not (" " <= c <= "~") or c == "=" for c in value):
        return ["a valid environment variable name must consist only of printable ASCII characters other than '='"]
    return []


_PERCENT = re.compile("[0-9]+%", re.ASCII)


def int_or_percent(value: Any) -> tuple[int, bool] | None:
    """(number, is_percent) of an IntOrString, None when it is neither an integer nor 'N%'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, False
    if isinstance(value, str) and _PERCENT.fullmatch(value):
        return int(value[:-1]), True
    return None


def positive_int_or_percent(value: Any, path: FieldPath) -> Iterator[Problem]:
    """`ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`."""
    if isinstance(value, str):
        if not _PERCENT.fullmatch(value):
            yield invalid(path, Raw(value), regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"))
        elif int(value[:-1]) > 100:
            yield invalid(path, Raw(value), "must not be greater than 100%")
    elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
        yield invalid(path, Raw(str(value)), NEGATIVE)


@lru_cache(maxsize=4096)
def cidr_errors(value: str) -> tuple[str, ...]:
    """A CIDR as the API server parses it for NetworkPolicies (leading zeros tolerated, host bits allowed)."""
    address, slash, bits = value.partition("/")
    if not slash or not bits.isdigit() or parse_cidr(value) is None:
        return ("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",)
    return ()


@lru_cache(maxsize=4096)
def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    address, _, bits = value.partition("/")
    if not bits.isdigit():
        return None
    try:
        return ipaddress.ip_network(f"{_strip_zeros(address)}/{int(bits)}", strict=False)
    except ValueError:
        return None


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(_strip_zeros(value))
    except ValueError:
        return False
    return True


def _strip_zeros(address: str) -> str:
    """Go's legacy IPv4 parsing reads `010.1.1.1` as 10.1.1.1; Python refuses leading zeros."""
    parts = address.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return ".".join(str(int(p)) for p in parts)
    return address
