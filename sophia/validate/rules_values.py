"""Rules over every string value: no IP literals, no Secret objects, no secret-looking values.

Secret detection goes through detect-secrets' own plugins (known token formats, keyword and
high-entropy detectors). Running all of them on every value costs about 120 us per value, so a
value is only shown to a plugin that could fire on it: the token detectors' patterns are joined
into one prefilter, the keyword detector only sees keys that look sensitive, and the entropy
detectors only see long values. Results are cached per (key, value) for the run.

detect-secrets (with requests, which its plugins import) takes ~0.2 s to import, so it is
imported when the scanner is first built: the path, IP and key helpers here cost nothing extra.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sophia.values import host_ips

from .documents import Resource
from .policy import Rule, per_resource
from .report import FieldPath

if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin

_IP_BLOCK_KEYS = {"cidr", "except"}

_SENSITIVE = re.compile(r"pass(word|wd)?|pwd|secret|token|api_?key|private_?key|credential|access_?key|auth_?key")
_REFERENCE_SUFFIXES = ("_name", "_ref", "_file", "_path", "_dir", "_names", "_refs", "_store", "_key_ref")
_REFERENCE_FIELDS = {"secretKey", "secretName", "existingSecret", "tokenSecretRef", "passwordSecretRef"}
"""camelCase schema fields that name a secret held elsewhere (ExternalSecret, volumes), not a secret."""
_WEAK = {
    "admin", "changeme", "change_me", "change-me", "default", "password", "passw0rd", "secret", "sophia_password",
    "test", "example", "123456", "12345678", "root", "letmein", "qwerty", "postgres", "minio123", "minioadmin",
}
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_REVISION_KEYS = {"revision", "targetRevision", "history"}
_COMMIT = re.compile(r"[0-9a-f]{40}")
"""A git commit id under a revision key is a public name of a commit, not a secret (high entropy though it is)."""
_MIN_ENTROPY_LENGTH = 20


def _camel_to_snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).replace("-", "_").replace(".", "_").lower()


@lru_cache(maxsize=4096)
def is_sensitive(key: str) -> bool:
    """Whether a key or variable name names a secret itself (not a reference to one, like secretName)."""
    if key in _REFERENCE_FIELDS:
        return False
    snake = _camel_to_snake(key)
    return bool(_SENSITIVE.search(snake)) and not snake.endswith(_REFERENCE_SUFFIXES)


def keyed_strings(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str, str]]:
    """Every string leaf with its path and the key it belongs to.

    In a `{name: X, value: Y}` pair (container env, Helm-style lists) the key of Y is X.
    """
    stack: list[tuple[FieldPath, str, Any]] = [(path, "", value)]
    while stack:
        here, key, item = stack.pop()
        if isinstance(item, str):
            yield here, key, item
        elif isinstance(item, dict):
            named = item.get("name") if isinstance(item.get("name"), str) and "value" in item else None
            for k, v in item.items():
                child_key = named if (named is not None and k == "value") else str(k)
                stack.append(((*here, str(k)), child_key, v))
        elif isinstance(item, list):
            stack.extend(((*here, i), key, v) for i, v in enumerate(item))


def _in_ip_block(path: FieldPath, resource: Resource) -> bool:
    return resource.kind == "NetworkPolicy" and "ipBlock" in path and any(k in _IP_BLOCK_KEYS for k in path[-2:])


_Found = tuple[tuple[FieldPath, str, str], ...]
_Cache = WeakKeyDictionary[Resource, _Found]
_STRINGS: _Cache = WeakKeyDictionary()
_SECRETS: _Cache = WeakKeyDictionary()


def _once(cache: _Cache, resource: Resource, compute: Callable[[Resource], Iterable[tuple[FieldPath, str, str]]]) -> _Found:
    """Per-resource work shared by several rules of one run (Resource compares by identity)."""
    found = cache.get(resource)
    if found is None:
        found = cache[resource] = tuple(compute(resource))
    return found


def _strings(resource: Resource) -> _Found:
    """`keyed_strings` of one resource, walked once for all the value rules of a run."""
    return _once(_STRINGS, resource, lambda r: keyed_strings(r.data))


def _ip_check(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
    for path, key, value in _strings(resource):
        # An IPv4 address has three dots and an IPv6 one two colons: most strings have neither.
        if (value.count(".") < 3 and value.count(":") < 2) or _in_ip_block(path, resource):
            continue
        text = value.split("/", 1)[0] if key == "image" else value  # only an image's registry can be a host
        for address in host_ips(text):
            yield path, f"IP address {address} written as a host"


def _secret_kind(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
    if resource.kind == "Secret" and resource.api_version == "v1":
        yield ("kind",), "a Secret object is committed to the repository"


class _Scanner:
    """detect-secrets plugins behind cheap prefilters."""

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
        from detect_secrets.plugins.keyword import KeywordDetector

        classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
        plugins: list[BasePlugin] = [cls() for cls in classes]
        self.tokens = [p for p in plugins if isinstance(p, RegexBasedDetector) and p.secret_type != "Public IP (ipv4)"]
        self.keyword = [p for p in plugins if isinstance(p, KeywordDetector)]
        self.entropy = [p for p in plugins if isinstance(p, HighEntropyStringsPlugin)]
        patterns = [rx.pattern for p in self.tokens for rx in p.denylist]
        self.prefilter = re.compile("|".join(f"(?:{p})" for p in patterns))

    def hits(self, key: str, value: str) -> list[str]:
        line = f'{key or "value"}: "{value}"'
        chosen: list[BasePlugin] = []
        if self.prefilter.search(value):
            chosen.extend(self.tokens)
        if key and is_sensitive(key):
            chosen.extend(self.keyword)
        if len(value) >= _MIN_ENTROPY_LENGTH:
            chosen.extend(self.entropy)
        return sorted(
            {str(p.secret_type) for p in chosen for _ in p.analyze_line(filename="manifest.yaml", line=line, line_number=1)}
        )


@lru_cache(maxsize=1)
def _scanner() -> _Scanner:
    return _Scanner()


def prepare() -> None:
    """Build the detect-secrets scanner now (~0.05 s) rather than at the first value."""
    _scanner()


@lru_cache(maxsize=65536)
def secret_problem(key: str, value: str) -> tuple[str, str] | None:
    """(rule id, message) when a value looks like a secret, a weak default or a placeholder."""
    sensitive = bool(key) and is_sensitive(key)
    if sensitive and value.strip().lower() in _WEAK:
        return "SOPHIA-SEC-003", f'"{key}" holds the weak default "{value}"'
    if sensitive and _PLACEHOLDER.search(value):
        return "SOPHIA-SEC-004", f'"{key}" holds the placeholder "{value}"'
    if len(value) < 6 and not sensitive:
        return None
    if key in _REVISION_KEYS and _COMMIT.fullmatch(value):
        return None
    hits = _scanner().hits(key, value)
    if hits:
        return "SOPHIA-SEC-002", f'"{key or "value"}" looks like a secret ({", ".join(hits)})'
    return None


def _secret_findings(resource: Resource) -> _Found:
    """(path, rule id, message) of every secret-looking value of one resource, for the three SEC rules."""
    return _once(_SECRETS, resource, _scan_values)


def _scan_values(resource: Resource) -> Iterator[tuple[FieldPath, str, str]]:
    for path, key, value in _strings(resource):
        if not value or (path and path[0] == "metadata" and "annotations" not in path):
            continue
        problem = secret_problem(key, value)
        if problem is not None:
            yield path, problem[0], problem[1]


def _secret_values(rule_id: str) -> Any:
    def check(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
        for path, rule, message in _secret_findings(resource):
            if rule == rule_id:
                yield path, message

    return per_resource(check)


_EXTERNAL = "keep it in the secret store and reference it through an ExternalSecret (secretKeyRef)"

RULES = (
    Rule("SOPHIA-NET-001", "No IP address literal is used as a host",
         "use a DNS name (a Service name); CIDR ranges belong in a NetworkPolicy ipBlock", per_resource(_ip_check)),
    Rule("SOPHIA-SEC-001", "No Secret object is committed", f"delete the Secret; {_EXTERNAL}",
         per_resource(_secret_kind)),
    Rule("SOPHIA-SEC-002", "No secret-looking literal value (detect-secrets)", _EXTERNAL,
         _secret_values("SOPHIA-SEC-002")),
    Rule("SOPHIA-SEC-003", "No weak default (changeme, admin, password...) in a sensitive value", _EXTERNAL,
         _secret_values("SOPHIA-SEC-003")),
    Rule("SOPHIA-SEC-004", "No ${VAR} placeholder in a sensitive variable",
         f"placeholders are never substituted by Kubernetes; {_EXTERNAL}", _secret_values("SOPHIA-SEC-004")),
)
