"""Objects and their changes: `{path: YAML text}` trees -> added / changed / removed objects.

An object is identified inside its environment (the top-level folder of dist/) by
(apiVersion group, kind, namespace, name), never by its file: a file that moves to another folder
with the same identity is a change (`Change.moved`), and a new apiVersion of the same group is a
change too. Only `.yaml` / `.yml` files are read; reports such as `SUMMARY.md` are ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

import yaml

from sophia.errors import Problem, SophiaError

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]  # PyYAML has no type information
    """Multi-line strings as `|` blocks, so a diff shows the line of a config file that changed."""


def _str(dumper: Any, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)

Status = Literal["added", "changed", "removed"]
Manifest = dict[str, Any]


class DiffError(SophiaError):
    """The two sides cannot be compared (bad ref, unreadable dist, duplicate objects)."""

    exit_code = 2

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = sorted(set(problems))
        super().__init__(message)

    def render(self, out: PurePath | None = None) -> str:
        return "\n".join([p.render() for p in self.problems] + [f"error: {self}"])


@dataclass(frozen=True, order=True)
class ObjectKey:
    """The identity of a Kubernetes object, as Argo CD tracks it (the version is not part of it)."""

    group: str
    kind: str
    namespace: str
    name: str

    def order(self) -> tuple[str, str, str, str]:
        """Reading order: by kind, then namespace and name."""
        return (self.kind, self.namespace, self.name, self.group)

    def label(self) -> str:
        """`StatefulSet sophia-prod-data/postgres`, `Application.argoproj.io argocd/root`."""
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{kind} {where}"


@dataclass(frozen=True)
class Obj:
    """One object of one side, with where it was found and its canonical YAML text."""

    env: str
    app: str
    path: str
    key: ObjectKey
    manifest: Manifest = field(compare=False, hash=False)
    text: str = field(compare=False, hash=False)


@dataclass(frozen=True)
class Change:
    """One object that differs between the two sides."""

    status: Status
    old: Obj | None
    new: Obj | None
    fields: tuple[str, ...] = ()
    diff: tuple[str, ...] = ()

    @property
    def obj(self) -> Obj:
        """The side that exists now, else the one that existed."""
        found = self.new or self.old
        assert found is not None  # a change has at least one side
        return found

    @property
    def env(self) -> str:
        return self.obj.env

    @property
    def app(self) -> str:
        return self.obj.app

    @property
    def key(self) -> ObjectKey:
        return self.obj.key

    @property
    def moved(self) -> bool:
        """The object is now written to another file (possibly another Argo CD application)."""
        return self.old is not None and self.new is not None and self.old.path != self.new.path


Tree = dict[tuple[str, ObjectKey], Obj]

LabelChange = tuple[str, str | None, str | None]
"""(label, old value, new value); None where the label is not set."""


def label_only(change: Change) -> tuple[LabelChange, ...]:
    """The label changes of an object whose only change is to its own labels (in place), else ()."""
    if change.status != "changed" or change.moved or change.old is None or change.new is None or not change.fields:
        return ()
    if not all(f == "metadata.labels" or f.startswith("metadata.labels.") for f in change.fields):
        return ()
    old, new = _labels(change.old.manifest), _labels(change.new.manifest)
    return tuple((k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))


def _labels(manifest: Manifest) -> dict[str, str | None]:
    labels = (manifest.get("metadata") or {}).get("labels") or {}
    return {str(k): None if v is None else str(v) for k, v in labels.items()}


def canonical(manifest: Manifest) -> str:
    """The canonical text of a manifest for diffs: sorted keys, block style, multi-line strings as `|` blocks."""
    return str(yaml.dump(manifest, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=120))


def key_of(manifest: Manifest) -> ObjectKey:
    api = str(manifest.get("apiVersion") or "")
    meta = manifest.get("metadata") or {}
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    return ObjectKey(group, str(manifest.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def split_path(path: str) -> tuple[str, str]:
    """`production/data/X.yaml` -> (`production`, `data`); the app is the file's folder below the environment."""
    parts = path.split("/")
    env = parts[0] if len(parts) > 1 else ""
    return env, "/".join(parts[1:-1])


def is_manifest_path(path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


def parse_tree(files: Mapping[str, str], *, prefix: str = "") -> Tree:
    """Every object of a `{path relative to dist: text}` tree; raises `DiffError` listing every bad file."""
    tree: Tree = {}
    problems: list[Problem] = []
    for path, text in sorted(files.items()):
        if not is_manifest_path(path):
            continue
        try:
            docs = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
        except yaml.YAMLError as exc:
            problems.append(Problem(f"{prefix}{path}", None, "", f"not valid YAML: {str(exc).splitlines()[0]}"))
            continue
        env, app = split_path(path)
        for doc in docs:
            if not isinstance(doc, dict) or not doc.get("kind") or not (doc.get("metadata") or {}).get("name"):
                problems.append(Problem(f"{prefix}{path}", None, "", "not a Kubernetes object (kind and metadata.name are required)"))
                continue
            obj = Obj(env, app, path, key_of(doc), doc, canonical(doc))
            other = tree.get((env, obj.key))
            if other is not None:
                problems.append(Problem(f"{prefix}{path}", None, "", f"{obj.key.label()} is also defined in {other.path}",
                                        "Argo CD would fight over it; keep one definition"))
                continue
            tree[(env, obj.key)] = obj
    if problems:
        raise DiffError(f"cannot compare: {len(problems)} file(s) below {prefix or 'dist/'} are not readable manifests", problems)
    return tree


def changed_fields(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths of the fields that differ; list items with a `name` (or `metadata.name`) are matched by name."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new), key=str):
            out += changed_fields(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(old, list) and isinstance(new, list):
        if _named(old) and _named(new):
            olds, news = {_name(i): i for i in old}, {_name(i): i for i in new}
            out = []
            for n in sorted(set(olds) | set(news), key=str):
                out += changed_fields(olds.get(n), news.get(n), f"{path}[{n}]")
            if not out:  # same items, another order
                out.append(path)
            return out
        if len(old) == len(new):
            return [p for i, (a, b) in enumerate(zip(old, new, strict=True)) for p in changed_fields(a, b, f"{path}[{i}]")]
    return [path or "."]


def _name(item: Any) -> Any:
    if not isinstance(item, dict):
        return None
    meta = item.get("metadata")
    return item.get("name") or (meta.get("name") if isinstance(meta, dict) else None)


def _named(items: list[Any]) -> bool:
    names = [_name(i) for i in items]
    return len(names) == len(items) and None not in names and len(set(names)) == len(names)


def unified(old: Obj | None, new: Obj | None, *, old_prefix: str = "a/", new_prefix: str = "b/", context: int = 3) -> tuple[str, ...]:
    """A unified diff of the canonical YAML of both sides (lines without trailing newlines)."""
    a = old.text.splitlines() if old else []
    b = new.text.splitlines() if new else []
    from_file = f"{old_prefix}{old.path}" if old else "/dev/null"
    to_file = f"{new_prefix}{new.path}" if new else "/dev/null"
    return tuple(difflib.unified_diff(a, b, from_file, to_file, n=context, lineterm=""))


def compare_trees(old: Tree, new: Tree, *, old_prefix: str = "a/", new_prefix: str = "b/") -> list[Change]:
    """Every added, changed (or moved) and removed object, sorted by environment, app and identity."""
    changes: list[Change] = []
    for ident in set(old) | set(new):
        a, b = old.get(ident), new.get(ident)
        if a is None and b is not None:
            changes.append(Change("added", None, b))
        elif b is None and a is not None:
            changes.append(Change("removed", a, None))
        elif a is not None and b is not None and (a.manifest != b.manifest or a.path != b.path):
            diff = unified(a, b, old_prefix=old_prefix, new_prefix=new_prefix)
            changes.append(Change("changed", a, b, tuple(changed_fields(a.manifest, b.manifest)), diff))
    return sorted(changes, key=lambda c: (c.env, c.app, c.key.order()))
