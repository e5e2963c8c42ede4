"""The manifest writer: whatever it writes reads back as exactly what it was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia.yamlout import dump, scalar

ROOT = Path(__file__).resolve().parents[1]

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from(["\n", ":", "#", " ", "-", "'", '"']))
_leaf = st.none() | st.booleans() | st.integers() | _text | st.sampled_from(
    ["yes", "No", "on", "null", "~", "1.0", "0x1F", "1:20", ".5", ".inf", "2025-07-09", "- a", "a: b", "#c", "&x", "*x", "!t",
     "foo:", "http://a:1/b", "multi\nline\n", "trailing \nspace", "x\n\n", " lead", "", "@", "%", "`",
     # YAML line breaks and characters YAML refuses raw, which JSON escaping leaves raw
     "\u2028", "a\x85b", "l1\nl2\u2029\n", "\ufeffx", "\ufffe", "tab\there", "\tleading tab\nline\n"])
_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=0, max_size=12) | st.sampled_from(
    ["app.kubernetes.io/name", "on", "yes", "1", "null", "a: b", "\u2028", "k\x85", "key\n"])
_values = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_any_json_shaped_document_reads_back_unchanged(doc: dict[str, Any]) -> None:
    text = dump(doc)
    assert yaml.safe_load(text) == (doc or None if doc else None) or yaml.safe_load(text) == doc
    assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)  # libyaml, as `sophia validate` reads


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "true", "null", "~", "1", "1.5", "0o7", "2025-07-09", "1:20", ".inf",
                                  "foo:", "a: b", "# c", "-x", "", " x", "x ", "@x", "`x"])
def test_strings_that_would_change_type_are_quoted(text: str) -> None:
    assert yaml.safe_load(f"k: {scalar(text)}")["k"] == text


def test_every_committed_manifest_round_trips() -> None:
    paths = sorted((ROOT / "dist").rglob("*.yaml"))
    assert paths
    for path in paths:
        text = path.read_text()
        assert dump(yaml.safe_load(text)) == text, path
