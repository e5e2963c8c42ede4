"""Rules over every string value: no IP literals, no Secret objects, no secret-looking values.

What an IP literal and a secret-looking value are is decided in `sophia.values` (the loader
applies the same rules to the environment files); these rules walk each object's strings once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any
from weakref import WeakKeyDictionary

from sophia.values import FieldPath, host_ips, keyed_strings, secret_problem

from .documents import Resource
from .rule import Rule, per_resource

_IP_BLOCK_KEYS = {"cidr", "except"}


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
