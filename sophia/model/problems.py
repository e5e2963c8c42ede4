"""Collecting problems and locating them: a parsed file (`Source`), the `Collector` of every
problem of a load, pydantic's errors explained (with "did you mean" hints), and small hint texts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from sophia.errors import Problem
from sophia.model.yamlsafe import MAX_FILE_BYTES, Document, YamlProblem, load_documents, load_text
from sophia.values import dotted


@dataclass
class Source:
    """One file of the environments folder, parsed: its name as reported and its document (with lines)."""

    file: str
    doc: Document


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


class Collector:
    """Every problem of a load, each located at a file and line, reported together at the end."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, line: int | None, path: tuple[str | int, ...], message: str, hint: str = "") -> None:
        self.problems.append(Problem(file, line, dotted(path), message, hint))

    def pydantic(
        self,
        exc: ValidationError,
        locate: Any,
        prefix: tuple[str | int, ...],
        model: type[BaseModel],
    ) -> None:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union["))))
            loc = tuple(p for p in loc if p not in ("literal_error", "[key]"))
            file, line = locate(loc)
            msg, hint = _explain(err, loc, model)
            self.add(file, line, (*prefix, *loc), msg, hint)


def _explain(err: Any, loc: tuple[str | int, ...], model: type[BaseModel]) -> tuple[str, str]:
    kind = err["type"]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        known = _known_fields(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1) if known else []
        hint = f"did you mean {close[0]!r}?" if close else ("known fields: " + ", ".join(sorted(known)) if known else "")
        return f"unknown field {loc[-1]!r}", hint
    if kind == "missing":
        return "required field is missing", ""
    return msg, ""


def _known_fields(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names valid at `loc` inside `model`, for 'did you mean' hints."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        if isinstance(part, int):
            continue
        target = None
        for name, f in current.model_fields.items():
            if (f.alias or name) == part:
                target = f.annotation
                break
        if target is None:
            # inside a dict keyed by a user name: the value type of the dict
            return []
        current = _model_in(target)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return _field_names(current)
    return []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None and meta is not annotation:
        return _model_in(meta)
    return None


def type_name(value: Any) -> str:
    """What a YAML value is, in the words of an error message (`a list`, `a number`)."""
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), type(value).__name__)


def defined_names(what: str, entries: dict[str, Any]) -> str:
    """A hint listing what is defined: `defined releases: a, b` (or that none is)."""
    return f"defined {what}: " + ", ".join(sorted(entries)) if entries else f"no {what} are defined"


def did_you_mean(name: str, options: Any) -> str:
    """A hint naming the closest option to a misspelled name, or nothing."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def read_documents(path: FsPath, name: str, col: Collector) -> list[Document] | None:
    """The non-empty documents of one file, read by the hardened reader (never more than its size
    limit, whatever the file's size); None, and a problem named `name`, when it cannot be read."""
    try:
        with path.open("rb") as handle:
            text = load_text(handle.read(MAX_FILE_BYTES + 1))
        return [d for d in load_documents(text) if d.data is not None]
    except YamlProblem as exc:
        col.add(name, exc.line, exc.path, exc.message)
    except OSError as exc:
        col.add(name, None, (), f"cannot read: {exc.strerror}")
    return None
