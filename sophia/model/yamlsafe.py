"""Hardened YAML reading that keeps the line of every field.

PyYAML's event parser (libyaml through the C binding when present) does the tokenizing; this
module builds plain Python values from the event stream itself, iteratively, so that:

* every mapping value's line is recorded under its field path (``("spec", "replicas")``);
* duplicate keys are an error (PyYAML silently keeps the last one);
* only the YAML core tags are accepted: ``!!python/...`` and any other tag is never constructed;
* nesting depth, file size and alias expansion are bounded, so a "billion laughs" document or a
  file nested ten thousand levels deep ends in one clear error instead of exhausting memory or the
  stack.

Limits are module constants and documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import Resolver

from sophia.values import ONE_LETTER_BOOLEANS

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Largest environment file accepted (2 MiB, about 60,000 lines of ordinary YAML)."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""

MAX_NODES = 200_000
"""Most values one file may expand to, counting every alias expansion."""

try:  # libyaml's event parser; `yaml.CParser` does not exist (cyaml's __all__ leaves it out)
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the pure-Python parser
    _Parser = None
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:merge",
}
_MERGE = "<<"

Path = tuple[str | int, ...]


class YamlProblem(Exception):
    """A document could not be read; `line` is 1-based where known."""

    def __init__(self, message: str, line: int | None = None, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path


@dataclass
class Document:
    """One YAML document: its value and the line of each field path."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    start_line: int = 1

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        while path:
            line = self.lines.get(path)
            if line is not None:
                return line
            path = path[:-1]
        return self.start_line


class _Scalars(SafeConstructor):  # type: ignore[misc]  # PyYAML ships no type information
    """Turns a resolved scalar into its core-schema Python value (timestamps stay strings)."""

    bool_values = {**SafeConstructor.bool_values, **{k.lower(): v for k, v in ONE_LETTER_BOOLEANS.items()}}

    def value(self, tag: str, text: str, line: int) -> Any:
        if tag == "tag:yaml.org,2002:str" or tag == "tag:yaml.org,2002:timestamp":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        make = _TYPED.get(tag)
        if make is None:
            raise YamlProblem(f"tag {tag!r} is not allowed on a scalar", line)
        try:
            return make(self, yaml.ScalarNode(tag, text))
        except (ValueError, KeyError, IndexError):  # `!!int ""`, `!!bool foo`: PyYAML trusts the tag
            raise YamlProblem(f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}", line) from None


_TYPED = {
    "tag:yaml.org,2002:int": _Scalars.construct_yaml_int,
    "tag:yaml.org,2002:float": _Scalars.construct_yaml_float,
    "tag:yaml.org,2002:bool": _Scalars.construct_yaml_bool,
}


_RESOLVER = Resolver()
_SCALARS = _Scalars()


class _Frame:
    __slots__ = ("value", "path", "key", "key_line", "merged", "line", "anchor", "weight", "explicit")

    def __init__(self, value: Any, path: Path, line: int, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.key: str | None = None
        self.key_line = line
        self.merged: list[dict[str, Any]] = []
        self.line = line
        self.anchor = anchor
        self.weight = 1
        self.explicit: set[str] = set()


def _tag_of(event: Any, kind: type, kubectl_booleans: bool = False) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        if kind is yaml.ScalarNode:
            if kubectl_booleans and event.implicit[0] and event.value in ONE_LETTER_BOOLEANS:
                return "tag:yaml.org,2002:bool"
            return str(_RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit))
        return "tag:yaml.org,2002:map" if kind is yaml.MappingNode else "tag:yaml.org,2002:seq"
    return str(tag)


def load_documents(
    text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES, kubectl_booleans: bool = False
) -> list[Document]:
    """Parse every document of `text`; raise `YamlProblem` on the first thing we refuse.

    `kubectl_booleans` reads plain `y`/`n` as booleans, as kubectl and Argo CD do (for manifests).
    """
    docs: list[Document] = []
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    total = 0
    lines: dict[Path, int] = {}
    parser = _Parser(text) if _Parser is not None else yaml.SafeLoader(text)
    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.DocumentStartEvent):
                lines = {}
                anchors = {}
                docs.append(Document(None, lines, line or 1))
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            value: Any
            weight = 1
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise YamlProblem(f"unknown alias *{event.anchor}", line)
                value, weight = anchors[event.anchor]
            elif isinstance(event, yaml.ScalarEvent) and stack and isinstance(stack[-1].value, dict) and stack[-1].key is None:
                if event.tag not in (None, "!", "tag:yaml.org,2002:str"):
                    raise YamlProblem(f"tag {event.tag!r} is not allowed on a mapping key", line)
                value = event.value  # keys keep their text: `on:` or `01:` stay strings
            elif isinstance(event, yaml.ScalarEvent):
                tag = _tag_of(event, yaml.ScalarNode, kubectl_booleans)
                if tag not in _CORE_TAGS:
                    raise YamlProblem(f"tag {event.tag!r} is not allowed (only plain YAML values are read)", line)
                value = _SCALARS.value(tag, event.value, line or 0)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                kind = yaml.MappingNode if isinstance(event, yaml.MappingStartEvent) else yaml.SequenceNode
                tag = _tag_of(event, kind)
                if tag not in _CORE_TAGS:
                    raise YamlProblem(f"tag {event.tag!r} is not allowed (only plain YAML values are read)", line)
                if len(stack) >= max_depth:
                    raise YamlProblem(f"nesting deeper than {max_depth} levels", line)
                path = _child_path(stack)
                frame = _Frame({} if kind is yaml.MappingNode else [], path, line or 0, event.anchor)
                stack.append(frame)
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if isinstance(frame.value, dict):
                    for base in frame.merged:  # keys of the node win, then the earlier sources (YAML merge)
                        for k, v in base.items():
                            frame.value.setdefault(k, v)
                value, weight = frame.value, frame.weight
                if frame.anchor:
                    anchors[frame.anchor] = (value, weight)
                line = frame.line
            else:  # pragma: no cover - libyaml emits no other events
                raise YamlProblem(f"unexpected YAML event {type(event).__name__}", line)

            # a closed container's children were counted as they came: count the container once;
            # an alias counts everything it expands to
            total += 1 if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)) else weight
            if total > max_nodes:
                raise YamlProblem(
                    f"document expands to more than {max_nodes} values (an alias bomb?)", line
                )
            _attach(stack, docs, value, weight, line, lines, isinstance(event, yaml.AliasEvent))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {exc}") from None
    except ConstructorError as exc:  # pragma: no cover - scalars are resolved before construction
        raise YamlProblem(str(exc)) from None
    except RecursionError:  # pragma: no cover - the builder is iterative; libyaml is not recursive
        raise YamlProblem(f"nesting deeper than {max_depth} levels") from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    return docs


def _child_path(stack: list[_Frame]) -> Path:
    if not stack:
        return ()
    parent = stack[-1]
    if isinstance(parent.value, dict):
        return (*parent.path, parent.key if parent.key is not None else "")
    return (*parent.path, len(parent.value))


def _attach(
    stack: list[_Frame],
    docs: list[Document],
    value: Any,
    weight: int,
    line: int | None,
    lines: dict[Path, int],
    is_alias: bool,
) -> None:
    if not stack:
        docs[-1].data = value
        return
    parent = stack[-1]
    parent.weight += weight
    if isinstance(parent.value, list):
        if line is not None:
            lines[(*parent.path, len(parent.value))] = line
        parent.value.append(value)
        return
    if parent.key is None:
        if not isinstance(value, str):
            raise YamlProblem("a mapping key must be a plain value", line, parent.path)
        key = value
        if key in parent.explicit:
            raise YamlProblem(f"duplicate key {key!r}", line, (*parent.path, key))
        parent.key = key
        parent.key_line = line or parent.line
        return
    key = parent.key
    parent.key = None
    if key == _MERGE:
        sources = value if isinstance(value, list) else [value]
        for src in sources:
            if not isinstance(src, dict):
                raise YamlProblem("a merge key (<<) takes a mapping or a list of mappings", line)
            parent.merged.append(src)
        return
    parent.explicit.add(key)
    parent.value[key] = value
    lines[(*parent.path, key)] = parent.key_line


def load_text(data: bytes, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Decode file bytes as UTF-8 text, refusing oversize and binary input."""
    if len(data) > max_bytes:
        raise YamlProblem(f"file is larger than the {max_bytes}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(f"not UTF-8 text (byte {exc.start}: {data[exc.start]:#04x})", line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlProblem("binary content (a NUL byte) in a YAML file", line)
    return text.removeprefix("\ufeff")
