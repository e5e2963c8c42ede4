"""Finding manifest files and reading their YAML documents, fast and without ever raising.

The fast path is libyaml (`yaml.CSafeLoader`) composing nodes in C, and the values built from
those nodes here, without PyYAML's per-node Python constructor calls, plus a duplicate-key check:
0.15 s for the 489 files of dist/, against ~0.2 s for `sophia.model.yamlsafe.load_documents`
(events, with line numbers and limits) and for `yaml.load_all`. The hardened reader is still
used where it matters:

* files holding anchors (`&`), so that alias bombs stay bounded;
* files that could nest deeper than libyaml's recursive composer survives (`_depth_bound`);
* files the fast path refuses, to get its precise message (duplicate key path, line);
* files with findings, to put a line number on each finding (`locate`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sophia.model.yamlsafe import YamlProblem, load_documents, load_text
from sophia.values import ONE_LETTER_BOOLEANS, FieldPath

from .report import Finding, with_line
from .settings import MAX_FILE_BYTES, YAML_SUFFIXES

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UsageError(Exception):
    """The command line names something that does not exist (exit status 2)."""


@dataclass(frozen=True, eq=False)
class Resource:
    """One non-empty YAML document of a manifest file; `document` counts from 1, empty documents included.

    Compared and hashed by identity, so that rules can share per-resource work (`rules_values`).
    """

    file: str
    document: int
    data: Any

    def _get(self, *keys: str) -> Any:
        value = self.data
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    @property
    def api_version(self) -> str:
        value = self._get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self._get("kind")
        return value if isinstance(value, str) else ""

    @property
    def name(self) -> str:
        value = self._get("metadata", "name")
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str:
        value = self._get("metadata", "namespace")
        return value if isinstance(value, str) else ""

    @property
    def annotations(self) -> dict[str, Any]:
        value = self._get("metadata", "annotations")
        return value if isinstance(value, dict) else {}

    def finding(self, path: FieldPath, rule: str, message: str, hint: str = "") -> Finding:
        return Finding(self.file, self.document, self.kind, self.name, path, rule, message, hint)


@dataclass(frozen=True)
class Loaded:
    """Everything read from a set of paths: the resources and the files that could not be read."""

    resources: tuple[Resource, ...]
    problems: tuple[Finding, ...]
    files: int


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"
_ONE_LETTER_BOOLEAN = re.compile(r"^(?:y|Y|n|N)$")
_IMPLICIT = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
    + ([(_BOOL, _ONE_LETTER_BOOLEAN)] if first in ONE_LETTER_BOOLEANS else [])
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WILDCARD = tuple(_IMPLICIT.get(None, ()))  # None is PyYAML's "any first character"
_BY_FIRST = {first: tuple(resolvers) + _WILDCARD for first, resolvers in _IMPLICIT.items() if first is not None}


class _FastLoader(_Loader):  # type: ignore[misc]  # libyaml's loader class is untyped
    """libyaml parsing; keys keep their text, timestamps stay strings, plain `y`/`n` are booleans
    (as kubectl and Argo CD read them), duplicate keys raise.

    `resolve` is PyYAML's implicit resolution for a loader without path resolvers, with each
    first character's candidate list built once (libyaml calls it for every node).
    """

    yaml_implicit_resolvers = _IMPLICIT
    bool_values = {**yaml.constructor.SafeConstructor.bool_values, "y": True, "n": False}
    yaml_constructors = {**_Loader.yaml_constructors, _TIMESTAMP: lambda _loader, node: node.value}

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, rx in _BY_FIRST.get(value[:1], _WILDCARD):
                    if rx.match(value):
                        return tag  # type: ignore[no-any-return]
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _check_keys(node)
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
                key_node.tag = _STR
        return dict(super().construct_mapping(node, deep=deep))


_SCALARS: dict[str, Any] = {
    tag: _FastLoader.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
}
"""The scalar types whose PyYAML constructors are plain functions (collection ones are generators)."""


MAX_FAST_DEPTH = 2000
"""libyaml composes nodes recursively in C and overflows the stack somewhere past 20,000 levels."""


def _depth_bound(text: str) -> int:
    """An upper bound on the nesting depth of `text` (without anchors), cheap to compute.

    A flow collection opens with `[` or `{`, and inside a flow sequence `a: b` opens a mapping
    without a brace, so flow nesting is at most twice the openers. A nested block collection starts
    in a column right of its parent's, or in the same column for a sequence under a mapping key, so
    block nesting is at most twice the longest line.
    """
    longest = max(map(len, text.split("\n")))
    return 2 * (text.count("[") + text.count("{")) + 2 * (longest + 1)


def _too_deep(text: str) -> bool:
    """Whether `text` nests deeper than `MAX_FAST_DEPTH`, counted exactly on libyaml's events.

    Only asked when `_depth_bound` cannot rule it out (a long line, much JSON): the event stream is
    produced without recursion. Text libyaml cannot parse counts as too deep, so that the hardened
    reader words the problem.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_FAST_DEPTH:
                    return True
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return True
    return False


def _fast_values(text: str) -> list[Any]:
    """The documents of `text`: plain maps, sequences and strings built here, other values by PyYAML.

    Faster than `yaml.load_all` with the same loader (see the module docstring), with the same
    values (a property test holds the two together). Merge keys, non-scalar keys and explicit
    collection tags take PyYAML's own path for that collection.
    """
    loader = _FastLoader(text)
    try:
        values = []
        while loader.check_node():
            values.append(_construct(loader, loader.get_node()))
        return values
    finally:
        loader.dispose()


def _construct(loader: Any, root: yaml.Node) -> Any:
    """The value of one composed node tree, built without recursion."""

    def leaf(node: yaml.Node) -> tuple[Any, bool]:
        """The node's value, and whether it is a collection still to fill."""
        tag = node.tag
        if type(node) is yaml.ScalarNode:
            if tag in (_STR, _TIMESTAMP):
                return node.value, False
            make = _SCALARS.get(tag)
            return (make(loader, node) if make is not None else loader.construct_document(node)), False
        if type(node) is yaml.MappingNode and tag == _MAP:
            if all(type(k) is yaml.ScalarNode and k.tag != _MERGE for k, _ in node.value):
                return {}, True
        elif type(node) is yaml.SequenceNode and tag == _SEQ:
            return [], True
        # PyYAML's own construction, which builds nested values without recursing (merge keys,
        # complex keys, !!set, !!omap, a collection tag on a scalar...)
        return loader.construct_document(node), False

    value, open_ = leaf(root)
    if not open_:
        return value
    stack: list[tuple[yaml.Node, Any, Iterator[Any]]] = [(root, value, iter(root.value))]
    while stack:
        node, target, items = stack[-1]
        for item in items:
            child = item[1] if type(target) is dict else item
            got, open_ = leaf(child)
            if type(target) is dict:
                target[item[0].value] = got
            else:
                target.append(got)
            if open_:
                stack.append((child, got, iter(child.value)))
                break
        else:
            stack.pop()
            if type(target) is dict and len(target) != len(node.value):
                _check_keys(node)
    return value


def _check_keys(node: yaml.MappingNode) -> None:
    """Raise `_DuplicateKey` at the second occurrence of a plain key (merge keys aside)."""
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE:
            if key_node.value in seen:
                raise _DuplicateKey(key_node.value, key_node.start_mark.line + 1)
            seen.add(key_node.value)


def find_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every *.yaml/*.yml file under `paths` (files or folders, recursive), sorted; hidden folders skipped."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in path.rglob("*")
                if p.suffix in YAML_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return sorted(set(found))


def read_paths(paths: Sequence[str | Path]) -> Loaded:
    """Read every manifest under `paths`; raise `UsageError` only for a path that does not exist."""
    return read_files(find_files(paths))


def read_files(files: Sequence[Path]) -> Loaded:
    """Read the given manifest files (see `find_files`)."""
    resources: list[Resource] = []
    problems: list[Finding] = []
    for file in files:
        got, problem = read_file(file)
        resources.extend(got)
        if problem is not None:
            problems.append(problem)
    return Loaded(tuple(resources), tuple(problems), len(files))


def read_file(file: Path) -> tuple[list[Resource], Finding | None]:
    """The non-empty documents of one file, or the reason it could not be read."""
    name = str(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        return [], _file_problem(name, f"cannot read file: {exc.strerror or exc}")
    try:
        text = load_text(data, max_bytes=MAX_FILE_BYTES)
        values = _parse(text)
    except YamlProblem as exc:
        return [], _file_problem(name, exc.message, exc.line)
    return [Resource(name, i, value) for i, value in enumerate(values, start=1) if value is not None], None


def _parse(text: str) -> list[Any]:
    if "&" in text or (_depth_bound(text) > MAX_FAST_DEPTH and _too_deep(text)):
        return [doc.data for doc in load_documents(text, kubectl_booleans=True)]
    try:
        return _fast_values(text)
    except _DuplicateKey as exc:
        _raise_precise(text)
        raise YamlProblem(f"duplicate key {exc.key!r}", exc.line) from None
    except yaml.MarkedYAMLError as exc:
        _raise_precise(text)
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(f"YAML syntax error: {exc.problem or exc.context}", mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        # PyYAML trusts explicit tags (`!!bool foo` is a KeyError) and recurses on some nesting
        _raise_precise(text)
        raise YamlProblem(f"YAML error: {type(exc).__name__}: {exc}") from None


def _raise_precise(text: str) -> None:
    """Let the hardened reader word the problem when it sees it too."""
    load_documents(text, kubectl_booleans=True)


def _file_problem(file: str, message: str, line: int | None = None) -> Finding:
    if message.startswith("duplicate key"):
        hint = "keep one of the two: YAML readers silently keep only the last"
    elif message.startswith("cannot read"):
        hint = "check the file's permissions"
    else:
        hint = "fix the file so that it is UTF-8 YAML"
    return Finding(file, 0, "", "", (), "YAML", message, hint, line)


def locate(findings: Iterable[Finding]) -> list[Finding]:
    """Put a line number on every finding that has none, reading each concerned file once."""
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    located: list[Finding] = []
    for file, group in by_file.items():
        docs = _documents_with_lines(file) if any(f.line is None and f.document for f in group) else None
        for finding in group:
            if finding.line is not None or not finding.document or docs is None:
                located.append(finding)
                continue
            if finding.document <= len(docs):
                located.append(with_line(finding, docs[finding.document - 1].line_of(finding.path)))
            else:
                located.append(finding)
    return located


def _documents_with_lines(file: str) -> list[Any] | None:
    try:
        return list(load_documents(load_text(Path(file).read_bytes(), max_bytes=MAX_FILE_BYTES), kubectl_booleans=True))
    except (OSError, YamlProblem):
        return None
