"""The validator's fast YAML reader gives what PyYAML's own construction gives, and never crashes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia.model.yamlsafe import YamlProblem
from sophia.validate import documents

TOKENS = [
    "a", "b c", "on", "Off", "yes", "NO", "y", "N", "'n'", "~", "null", "", "0", "007", "0o7", "0x1F", "1_000", "1:20", "3.5",
    ".inf", "-.NaN", "1e3", "+12", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "true", "<<", "=", "'q'", '"d\\n"',
    "!!str 5", "!!int 7", "!!binary aGk=", "!!float 1", "!!null ''", "!!bool yes", "!local x", "!!set {a, b}",
    "!!omap [a: 1]", "!!map {a: 1}", "!!seq [1]", "[]", "{}", "*nope", "&x 1", "a: b", "- x", "#c", "|\n  lit",
    # explicit tags PyYAML trusts blindly: a tag that does not fit its value
    "!!seq x", "!!map x", "!!bool foo", "!!int", "!!float x", "!!timestamp foo", "!!timestamp 2001-12-14", "!!pairs [a: 1]",
]
KEYS = ["a", "b", "a", "1", "on", "~", "''", "<<", "[x]", "!!int 3", "x y", "? k"]

Tree = Any


def _trees() -> st.SearchStrategy[Tree]:
    leaf = st.sampled_from(TOKENS)
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.tuples(st.just("seq"), st.lists(kids, max_size=4), st.booleans()),
            st.tuples(st.just("map"), st.lists(st.tuples(st.sampled_from(KEYS), kids), max_size=4), st.booleans()),
        ),
        max_leaves=16,
    )


def _flow(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    kind, items, _ = tree
    if kind == "seq":
        return "[" + ", ".join(_flow(item) for item in items) + "]"
    return "{" + ", ".join(f"{key}: {_flow(value)}" for key, value in items) + "}"


def _block(tree: Tree, indent: int) -> str:
    if isinstance(tree, str) or tree[2] or not tree[1]:
        return " " + _flow(tree)
    kind, items, _ = tree
    pad = " " * indent
    if kind == "seq":
        return "".join(f"\n{pad}-{_block(item, indent + 2)}" for item in items)
    return "".join(f"\n{pad}{key}:{_block(value, indent + 2)}" for key, value in items)


class _Reference(documents._FastLoader):  # type: ignore[misc]
    """The loader's construction and PyYAML's own resolver, as validate used them before the fast path."""

    resolve = yaml.resolver.BaseResolver.resolve


def _outcome(text: str) -> tuple[str, object]:
    try:
        return "values", repr(documents._parse(text))  # repr: NaN is not equal to itself
    except YamlProblem as exc:
        return "problem", (exc.message, exc.line)


def _reference_values(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=_Reference))


@settings(max_examples=400, deadline=None)
@given(trees=st.lists(_trees(), min_size=1, max_size=3), block=st.booleans())
def test_fast_reader_matches_pyyaml(trees: list[Tree], block: bool, monkeypatch_module: pytest.MonkeyPatch) -> None:
    text = "\n---\n".join(_block(tree, 0).lstrip("\n ") if block else _flow(tree) for tree in trees) + "\n"
    fast = _outcome(text)
    with monkeypatch_module.context() as patch:
        patch.setattr(documents, "_fast_values", _reference_values)
        expected = _outcome(text)
    assert fast == expected, text


@given(st.text(max_size=12))
def test_resolution_matches_pyyaml(value: str) -> None:
    """Every plain scalar resolves to PyYAML's tag (timestamps excepted: they stay strings)."""
    loader = documents._FastLoader("")
    try:
        for implicit in ((True, False), (False, True), (False, False)):
            assert loader.resolve(yaml.ScalarNode, value, implicit) == _Reference.resolve(loader, yaml.ScalarNode, value, implicit)
        for kind in (yaml.SequenceNode, yaml.MappingNode):
            assert loader.resolve(kind, value, (True, False)) == _Reference.resolve(loader, kind, value, (True, False))
    finally:
        loader.dispose()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a: " + "[" * 50_000 + "]" * 50_000 + "\n", id="flow"),
        pytest.param("- " * 60_000 + "x\n", id="block-on-one-line"),
        pytest.param("x: " + "[a: " * 15_000 + "]" * 15_000 + "\n", id="flow-mappings-in-sequences"),
        pytest.param("".join(" " * i + f"k{i}:\n" for i in range(2100)) + " " * 2100 + "x\n", id="block-indented"),
    ],
)
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path: Any, text: str) -> None:
    """libyaml composes recursively in C: 30,000 levels overflowed the stack (a segfault, no report).

    Run in a child interpreter, so that a regression fails this test instead of ending the run.
    """
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(text)
    code = (
        "import sys; from pathlib import Path; from sophia.validate.documents import read_file; "
        "docs, problem = read_file(Path(sys.argv[1])); print(problem.message if problem else 'read')"
    )
    run = subprocess.run([sys.executable, "-c", code, str(manifest)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "nesting deeper than 64 levels"


def test_ordinary_manifests_take_the_fast_path() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {a: 'on'}}\ndata:\n  k: [1, on, ~]\n"
    assert documents._depth_bound(text) <= documents.MAX_FAST_DEPTH
    assert documents._fast_values(text) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "on"}}, "data": {"k": [1, True, None]}}
    ]


MERGES = [
    "b1: &b1 {a: one}\nb2: &b2 {a: two, c: 3}\nx:\n  <<: [*b1, *b2]\n  d: 4\n",
    "b: &b {a: 1, e: 5}\nx:\n  a: 2\n  <<: *b\n",
    "b: &b {a: 1}\nx: {<<: *b, a: 3}\n",
    "x:\n  <<: [{a: one}, {a: two, c: 3}]\n  d: 4\n",  # no anchor: the fast reader's path
    "x: {<<: {a: 1, e: 5}, a: 3}\n",
]


@pytest.mark.parametrize("text", MERGES)
def test_both_readers_merge_like_pyyaml(text: str) -> None:
    """Earlier merge sources win over later ones; the node's own keys win over all (YAML's merge key)."""
    from sophia.model.yamlsafe import load_documents

    expected = yaml.safe_load(text)
    assert [doc.data for doc in load_documents(text)] == [expected]
    assert documents._parse(text) == [expected]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!bool foo\n", "'foo' is not a valid bool"),
        ("a: !!int\n", "'' is not a valid int"),
        ("a: !!float x\n", "'x' is not a valid float"),
        ("a: !!seq x\n", "tag 'tag:yaml.org,2002:seq' is not allowed on a scalar"),
        ("a: !!map x\n", "tag 'tag:yaml.org,2002:map' is not allowed on a scalar"),
    ],
)
def test_a_tag_that_does_not_fit_its_value_is_a_located_problem(text: str, message: str) -> None:
    """PyYAML trusts explicit tags (`!!bool foo` is a KeyError inside it): both readers report a problem."""
    from sophia.model.yamlsafe import load_documents

    with pytest.raises(YamlProblem) as hardened:
        load_documents(text)
    with pytest.raises(YamlProblem) as fast:
        documents._parse(text)
    assert (hardened.value.message, hardened.value.line) == (message, 1)
    assert (fast.value.message, fast.value.line) == (message, 1)


def test_deep_merge_nesting_reads_without_recursion() -> None:
    """A merge key sends its mapping through PyYAML's construction, which must not recurse per level."""
    text = "<<: {}\n" + "".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400 + "x: 1\n"
    value = documents._parse(text)[0]
    for i in range(400):
        value = value[f"k{i}"]
    assert value == {"x": 1}


@pytest.mark.parametrize(
    "body",
    ["a: !!binary aGk=\n", "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "x: 1\n"],
    ids=["binary", "depth-70"],
)
def test_a_long_line_elsewhere_does_not_change_how_a_file_reads(body: str) -> None:
    """A certificate or a JSON dashboard (one long line) must not send a file to another reader."""
    padding = "pad: " + "A" * 1100 + "\n"
    assert documents._depth_bound(padding + body) > documents.MAX_FAST_DEPTH
    assert documents._parse(padding + body) == [{**documents._parse(body)[0], "pad": "A" * 1100}]
