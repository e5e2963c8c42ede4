"""`resource.Quantity`: the grammar the API server decodes, exact values, and its canonical text.

A quantity is `<sign><number><suffix>`: a number with an optional fraction (`1`, `1.5`, `.5`, `1.`),
and a binary (`Ki` ... `Ei`), decimal (`n u m k M G T P E`) or exponent (`e3`, `E-2`) suffix.
A value the grammar refuses stops the whole object at decoding, with the message below.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

PARSE_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

_GRAMMAR = re.compile(r"([+-]?)([0-9]+\.?[0-9]*|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?", re.ASCII)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_MAX_EXPONENT = 1000
"""Exponents beyond this are refused here (Go would need the memory of a number that size)."""


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str
    """"BinarySI", "DecimalSI" or "DecimalExponent": how the API server prints it back."""

    def __str__(self) -> str:
        return canonical(self)


def parse(raw: Any) -> Quantity | None:
    """The quantity a YAML value decodes to, or None when the API server would refuse it."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return Quantity(Fraction(raw), "DecimalSI")
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return None
        return Quantity(Fraction(repr(raw)), "DecimalSI")
    if not isinstance(raw, str):
        return None
    match = _GRAMMAR.fullmatch(raw)
    if match is None:
        return None
    sign, number, suffix = match.group(1), match.group(2), match.group(3) or ""
    value = Fraction(number if not number.endswith(".") else number[:-1])
    if suffix in _BINARY:
        value *= 1024 ** _BINARY[suffix]
        fmt = "BinarySI"
    elif suffix in _DECIMAL:
        value *= Fraction(10) ** _DECIMAL[suffix]
        fmt = "DecimalSI"
    else:
        exponent = int(suffix[1:])
        if abs(exponent) > _MAX_EXPONENT:
            return None
        value *= Fraction(10) ** exponent
        fmt = "DecimalExponent"
    return Quantity(-value if sign == "-" else value, fmt)


def canonical(q: Quantity) -> str:
    """`Quantity.String()`: the shortest exact form in the quantity's own format."""
    value = q.value
    if q.format == "BinarySI" and abs(value) >= 1024 and value.denominator == 1:
        number, power = int(value), 0
        while power < 6 and number % 1024 == 0:
            number //= 1024
            power += 1
        return f"{number}{_BINARY_SUFFIX[power]}"
    # Decimal: an integer mantissa with a power of 1000, rounded up to nano precision.
    scaled = value * 10**9
    mantissa = math.ceil(scaled) if scaled >= 0 else -math.ceil(-scaled)
    if mantissa == 0:
        return "0"
    exponent = -9
    while mantissa % 1000 == 0 and exponent < 18:
        mantissa //= 1000
        exponent += 3
    if q.format == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
