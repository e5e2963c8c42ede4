"""The manifest writer: whatever it writes reads back as exactly what it was given."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia.validate.documents import _fast_values
from sophia.yamlout import dump, scalar

ROOT = Path(__file__).resolve().parents[1]

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from(["\n", ":", "#", " ", "-", "'", '"']))
# every float: st.floats() draws huge, tiny, subnormal, negative zero, inf and nan; the list makes sure of them
_floats = st.floats() | st.sampled_from([1e16, 1e-07, -1e22, 5e-324, 1.7976931348623157e308, -0.0, math.inf, -math.inf, math.nan])
_leaf = st.none() | st.booleans() | st.integers() | _floats | _text | st.sampled_from(
    ["yes", "No", "on", "y", "N", "null", "~", "1.0", "0x1F", "1:20", ".5", ".inf", "2025-07-09", "- a", "a: b", "#c", "&x", "*x", "!t",
     "foo:", "http://a:1/b", "multi\nline\n", "trailing \nspace", "x\n\n", " lead", "", "@", "%", "`",
     # YAML line breaks and characters YAML refuses raw, which JSON escaping leaves raw
     "\u2028", "a\x85b", "l1\nl2\u2029\n", "\ufeffx", "\ufffe", "tab\there", "\tleading tab\nline\n"])
_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=0, max_size=12) | st.sampled_from(
    ["app.kubernetes.io/name", "on", "yes", "y", "n", "1", "null", "a: b", "\u2028", "k\x85", "key\n"])
_values = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)


def _same(read: Any, written: Any) -> bool:
    """Equal in value and type: `==` takes 1 for True and 1.0, 0.0 for -0.0, and nan for nothing."""
    if type(read) is not type(written):
        return False
    if isinstance(written, dict):
        return read.keys() == written.keys() and all(_same(read[k], v) for k, v in written.items())
    if isinstance(written, list):
        return len(read) == len(written) and all(_same(r, w) for r, w in zip(read, written, strict=True))
    if isinstance(written, float):
        if math.isnan(written):
            return math.isnan(read)
        return bool(read == written and math.copysign(1, read) == math.copysign(1, written))
    return bool(read == written)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_any_json_shaped_document_reads_back_unchanged(doc: dict[str, Any]) -> None:
    text = dump(doc)
    expected = doc or None  # an empty mapping writes nothing, which reads back as null
    assert _same(yaml.safe_load(text), expected), text
    assert _same(yaml.load(text, Loader=yaml.CSafeLoader), expected), text  # libyaml
    assert _same((_fast_values(text) or [None])[0], expected), text  # as `sophia validate` (and kubectl) read it


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.5, "0.5"), (-2.0, "-2.0"), (-0.0, "-0.0"), (1e16, "1.0e+16"), (1e-07, "1.0e-07"), (-1e22, "-1.0e+22"),
     (1.5e300, "1.5e+300"), (5e-324, "5.0e-324"), (math.inf, ".inf"), (-math.inf, "-.inf"), (math.nan, ".nan")],
    ids=["half", "whole", "negative-zero", "huge", "tiny", "huge-negative", "huge-with-dot", "subnormal", "inf", "-inf", "nan"],
)
def test_floats_are_written_as_yaml_1_1_floats(value: float, text: str) -> None:
    assert dump({"k": value}) == f"k: {text}\n"
    assert _same(yaml.safe_load(dump({"k": value}))["k"], value)


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "true", "y", "Y", "n", "N", "null", "~", "1", "1.5", "0o7", "2025-07-09", "1:20", ".inf",
                                  "foo:", "a: b", "# c", "-x", "", " x", "x ", "@x", "`x"])
def test_strings_that_would_change_type_are_quoted(text: str) -> None:
    assert yaml.safe_load(f"k: {scalar(text)}")["k"] == text
    assert _fast_values(f"k: {scalar(text)}")[0]["k"] == text  # kubectl's YAML 1.1 reads a plain `y` as true


def test_every_committed_manifest_round_trips() -> None:
    paths = sorted((ROOT / "dist").rglob("*.yaml"))
    assert paths
    for path in paths:
        text = path.read_text()
        assert dump(yaml.safe_load(text)) == text, path
