"""A small, fast YAML writer for manifests (plain dicts, lists, strings, numbers, booleans).

PyYAML spends most of a synth in its Python-level representer, even with the C emitter. Manifests
are JSON-shaped data, so this writer emits them directly: block mappings with sorted keys,
block sequences in PyYAML's indentless style, a string plain when YAML would read it back as the
same string -- to PyYAML and to the Go YAML reader of kubectl and Argo CD, which reads `y` and `n`
as booleans -- and double-quoted (JSON escaping, which YAML accepts) otherwise, multi-line strings as
literal blocks, floats as YAML 1.1 spells them. `tests/test_yamlout.py` checks that every output
reads back to its input, value and type.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import yaml
from yaml.resolver import Resolver

from sophia.values import ONE_LETTER_BOOLEANS

_PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9_./@:+=-]*\Z")  # \Z: `$` would let a trailing newline through
_RAW_UNSAFE = re.compile("[\x85\u2028\u2029\ufeff]|[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters JSON leaves raw that YAML reads as a line break, or refuses, inside a quoted string."""
_RESOLVER = Resolver()
_STR = "tag:yaml.org,2002:str"


@lru_cache(maxsize=65536)
def scalar(value: str) -> str:
    """A string as a one-line YAML scalar that reads back as the same string."""
    if (
        _PLAIN.match(value)
        and not value.endswith(":")
        and value not in ONE_LETTER_BOOLEANS
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR
    ):
        return value
    return _RAW_UNSAFE.sub(_escape, json.dumps(value, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _block(value: str, indent: str) -> str | None:
    """A multi-line string as a literal block, or None when it cannot be one."""
    if value.endswith("\n\n") or value.startswith((" ", "\n", "\t")) or _RAW_UNSAFE.search(value):
        return None  # (libyaml reads a leading tab as indentation)
    lines = value.split("\n")
    if value.endswith("\n"):
        lines.pop()
        head = "|"
    else:
        head = "|-"
    if any(line != line.rstrip() or "\r" in line for line in lines):
        return None
    return head + "".join(f"\n{indent}{line}" if line else "\n" for line in lines)


def _float(value: float) -> str:
    """A float that YAML 1.1 readers (PyYAML, libyaml) read back as the same float.

    YAML 1.1 reads a number as a float only with a dot and a signed exponent: Python's `1e+16` and
    `inf` would read back as strings, so the dot is added and the specials take YAML's spelling.
    """
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)  # the shortest text that reads back as this float; its exponent is signed
    if "." not in text:
        mantissa, _, exponent = text.partition("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _leaf(value: Any, indent: str) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        if "\n" in value:
            block = _block(value, indent + "  ")
            if block is not None:
                return block
        return scalar(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _mapping(value: Mapping[str, Any], indent: str, out: list[str], first_prefix: str | None = None) -> None:
    prefix = first_prefix
    for key in sorted(value):
        item = value[key]
        lead = prefix if prefix is not None else indent
        prefix = None
        k = scalar(str(key))
        if isinstance(item, dict) and item:
            out.append(f"{lead}{k}:\n")
            _mapping(item, indent + "  ", out)
        elif isinstance(item, list) and item:
            out.append(f"{lead}{k}:\n")
            _sequence(item, indent, out)
        elif isinstance(item, dict):
            out.append(f"{lead}{k}: {{}}\n")
        elif isinstance(item, list):
            out.append(f"{lead}{k}: []\n")
        else:
            out.append(f"{lead}{k}: {_leaf(item, indent)}\n")


def _sequence(value: list[Any], indent: str, out: list[str]) -> None:
    for item in value:
        if isinstance(item, dict) and item:
            _mapping(item, indent + "  ", out, first_prefix=f"{indent}- ")
        elif isinstance(item, list) and item:
            out.append(f"{indent}-\n")
            _sequence(item, indent + "  ", out)
        elif isinstance(item, dict):
            out.append(f"{indent}- {{}}\n")
        elif isinstance(item, list):
            out.append(f"{indent}- []\n")
        else:
            out.append(f"{indent}- {_leaf(item, indent)}\n")


def dump(value: Mapping[str, Any]) -> str:
    """One manifest as YAML text (any mapping: a construct's TypedDict, or a dict read elsewhere)."""
    out: list[str] = []
    _mapping(value, "", out)
    return "".join(out)
