"""What a written value is: an IP address, an in-cluster address, a secret, a Kubernetes quantity, a name.

One definition of each, shared by the loader (what the input may hold), the policy rules (what
the output may hold), the importer (what it must rewrite so that the loader accepts it) and the
diff. Nothing here imports another sophia module.

IP literals. An IPv4 literal is four dot-separated numbers of one to three digits, each at most
255 (leading zeros allowed: `inet_aton` reads `010.0.0.1` as an address), standing as a token of
its own: not glued to a letter, digit, `_`, `-` or `.` on either side, though a sentence may end
with it (`... at 10.0.0.1.`). So `http://10.0.0.1:80/x`, `user@10.0.0.1` and `10.0.0.0/8` hold
one, and `v1.2.3.4`, `build-1.2.3.4`, `1.2.3.4-rc1` and `1.2.3.4.5` (versions) do not. Only a
whole token is used as a host by anything that connects, and the importer rewrites what the
loader would refuse, so both must read a string the same way; a dotted quad inside a longer word
is a version, which is where the other choice (any digits-and-dots run) went wrong. The price:
a range written with a hyphen (`10.0.0.1-10.0.0.9`, MetalLB's form) is not seen either; no field
sophia reads or writes takes one, and a CIDR range (`10.0.0.0/8`) is seen. An IPv6
literal is a run of hex groups and colons that Python's `ipaddress` accepts, not glued to a word
character, `:` or `.`. The unspecified addresses (`0.0.0.0`, `::`) are addresses ("bind to every
interface") but name no host: `host_ips` leaves them out. `tests/test_values.py` has the table.

Secret-looking values. Secret detection goes through detect-secrets' own plugins (known token
formats, keyword and high-entropy detectors). Running all of them on every value costs about
120 us per value, so a value is only shown to a plugin that could fire on it: the token
detectors' patterns are joined into one prefilter, the keyword detector only sees keys that look
sensitive, and the entropy detectors only see long values. Results are cached per (key, value)
for the run. detect-secrets (with requests, which its plugins import) takes ~0.2 s to import, so
it is imported when the scanner is first built: importing this module costs nothing extra.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin

# ---------------------------------------------------------------------------------------------
# IP literals

IPV4 = re.compile(r"(?<![\w.-])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\.?[\w-])")
"""A dotted quad as a token of its own (see the module docstring); `ipv4_literals` checks the numbers."""
IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:.])")
"""Hex groups and colons as a token of their own (brackets around it allowed); `ip_literals` checks them."""


def ipv4_literals(text: str) -> list[str]:
    """The IPv4 addresses written in `text`, as written, in order."""
    if text.count(".") < 3:  # most strings: no address possible
        return []
    return [m.group() for m in IPV4.finditer(text) if all(int(part) <= 255 for part in m.group().split("."))]


def ip_literals(text: str) -> list[str]:
    """The IPv4 then the IPv6 addresses written in `text`, as written; the unspecified ones included."""
    found = ipv4_literals(text)
    if text.count(":") >= 2:
        for match in IPV6.finditer(text):
            try:
                ipaddress.IPv6Address(match.group())
            except ValueError:
                continue
            found.append(match.group())
    return found


def is_unspecified(address: str) -> bool:
    """Whether an address from `ip_literals` is 0.0.0.0 or :: (every interface of the machine, no host)."""
    if ":" in address:
        return ipaddress.IPv6Address(address).is_unspecified
    return all(int(part) == 0 for part in address.split("."))


def host_ips(text: str) -> list[str]:
    """The addresses of `text` that name a host: `ip_literals` less the unspecified ones."""
    return [address for address in ip_literals(text) if not is_unspecified(address)]


def replace_ipv4(text: str, address: str, by: str) -> str:
    """`text` with every IPv4 literal equal to `address` replaced by `by` (a longer one it starts, such
    as 127.0.0.12 for 127.0.0.1, is another address and stays)."""
    return IPV4.sub(lambda m: by if m.group() == address else m.group(), text)


# ---------------------------------------------------------------------------------------------
# In-cluster addresses in env values

_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([A-Za-z0-9.-]+)")
_HOST_PORT = re.compile(r"^([a-z0-9][a-z0-9.-]*):[0-9]{1,5}$")
HOST_VARIABLE_SUFFIXES = ("_HOST", "_HOSTNAME", "_SERVER")
"""A variable named so holds a host name even without a scheme or port (`REDIS_HOST=redis`)."""


def cluster_host(var: str, value: str, namespaces: frozenset[str] = frozenset()) -> str | None:
    """The in-cluster host a plain env value points at, if any: the loader refuses such a value (a
    dependency must carry it), the importer turns it into one.

    In-cluster: a bare name (`redis`), a `.svc`/`.cluster.local` name, or `<name>.<namespace>` where
    the last label cannot be a public top-level domain (TLDs are letters only: `sophia-ai` is not one)
    or is a namespace of this environment.
    """
    match = _URL_HOST.match(value) or _HOST_PORT.match(value)
    host = match.group(1) if match else (value if var.upper().endswith(HOST_VARIABLE_SUFFIXES) else None)
    if host is None or not host:
        return None
    labels = host.split(".")
    if len(labels) == 1:
        return None if host == "localhost" else host
    if host.endswith((".svc", ".svc.cluster.local", ".cluster.local")):
        return host
    if len(labels) == 2 and (not labels[1].isalpha() or labels[1] in namespaces):
        return host
    return None


# ---------------------------------------------------------------------------------------------
# Secret-looking values

FieldPath = tuple[str | int, ...]
"""Where a value sits: mapping keys and list indexes, from the top of the document."""


def dotted(path: FieldPath) -> str:
    """`("spec", "containers", 0, "image")` -> `spec.containers[0].image`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


_SENSITIVE = re.compile(r"pass(word|wd)?|pwd|secret|token|api_?key|private_?key|credential|access_?key|auth_?key")
_REFERENCE_SUFFIXES = ("_name", "_ref", "_file", "_path", "_dir", "_names", "_refs", "_store", "_key_ref")
_REFERENCE_FIELDS = {"secretKey", "secretName", "existingSecret", "tokenSecretRef", "passwordSecretRef", "configSecret"}
"""camelCase schema fields that name a secret held elsewhere (ExternalSecret, volumes, prometheus-operator's
Alertmanager `configSecret`), not a secret."""
WEAK_PASSWORDS = frozenset({
    "admin", "changeme", "change_me", "change-me", "default", "password", "passw0rd", "passwd", "pass", "secret",
    "sophia", "sophia_password", "test", "example", "123456", "12345678", "root", "letmein", "qwerty", "postgres",
    "minio123", "minioadmin",
})
"""Passwords and placeholders every attacker tries first (compared case-insensitively)."""
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_REVISION_KEYS = {"revision", "targetRevision", "history"}
_COMMIT = re.compile(r"[0-9a-f]{40}")
"""A git commit id under a revision key is a public name of a commit, not a secret (high entropy though it is)."""
_MIN_ENTROPY_LENGTH = 20


def is_weak_password(value: str) -> bool:
    """A well-known weak password or placeholder: one of `WEAK_PASSWORDS`, anything holding `changeme`, or
    `<something>_password`."""
    low = value.strip().lower()
    return low in WEAK_PASSWORDS or "changeme" in low or low.endswith("_password")


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


def prepare_secret_scanner() -> None:
    """Build the detect-secrets scanner now (~0.05 s) rather than at the first value."""
    _scanner()


@lru_cache(maxsize=65536)
def secret_problem(key: str, value: str) -> tuple[str, str] | None:
    """(rule id, message) when a value looks like a secret, a weak default or a placeholder."""
    sensitive = bool(key) and is_sensitive(key)
    if sensitive and is_weak_password(value):
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


# ---------------------------------------------------------------------------------------------
# Kubernetes quantities

_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[mkMGTPE]?)")
"""`resource.Quantity`'s grammar: a signed decimal number, then a binary suffix, a decimal exponent or a
decimal suffix (`E` alone is exa; `e3` and `E3` are exponents)."""
_SCALE = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9),
    "T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18), "Ki": Decimal(2**10), "Mi": Decimal(2**20),
    "Gi": Decimal(2**30), "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `1.5`, `2Gi`, `1e3`) as an exact number; ValueError when it is not one."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = match.groups()
    try:
        if suffix in _SCALE:
            return Decimal(number) * _SCALE[suffix]
        return Decimal(number).scaleb(int(suffix[1:]))  # a decimal exponent
    except ArithmeticError:  # an exponent beyond what Decimal holds
        raise ValueError(f"quantity out of range: {text!r}") from None


def millicores(text: str) -> int:
    """A CPU quantity in millicores, rounded up as Kubernetes does (`500m` -> 500, `2` -> 2000)."""
    return math.ceil(parse_quantity(text) * 1000)


def memory_bytes(text: str) -> int:
    """A memory or storage quantity in bytes, rounded up (`512Mi` -> 536870912)."""
    return math.ceil(parse_quantity(text))


def quantity_or_none(value: object) -> float | None:
    """A quantity read from a manifest (text or a number) as a float for comparing; None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(parse_quantity(str(value).strip()))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Names (matched whole: `fullmatch`; the lengths are the caller's, as they differ by use)

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
"""A DNS-1123 label (namespaces, most object names); at most 63 characters."""
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
"""A DNS-1123 subdomain (host names, API groups); at most 253 characters."""
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
"""A DNS-1035 label: a DNS-1123 label starting with a letter (Service and port names); at most 63."""
ONE_LETTER_BOOLEANS = {"y": True, "Y": True, "n": False, "N": False}
"""Plain scalars that YAML 1.1 and the Go YAML reader behind kubectl, Argo CD and the API server's
clients read as booleans, and PyYAML reads as strings: written quoted, validated as booleans."""

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An environment variable name, as shells and compose interpolation read one."""
IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
"""An OCI image tag."""
IMAGE_REPOSITORY = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*")
"""An image repository without tag (`ghcr.io/acme/api`, `registry:5000/x`); a registry with a namespace has the same shape."""
LLM_PROVIDER_KEY = re.compile(
    r"(OPENAI|ANTHROPIC|OPENROUTER|GROQ|MISTRAL|TOGETHER|PERPLEXITY|COHERE|GEMINI|GOOGLE_AI|DEEPSEEK|XAI)_API_KEY"
)
"""The env var name of an LLM provider's API key: only the LLM gateway holds those."""
