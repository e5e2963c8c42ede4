"""`patches:` of a service: RFC 6902 operations on the objects sophia generates, applied before
they are rendered (the kustomize-patch and `addJsonPatch` of this project, written in YAML).

Each application chart holds the `PatchRegistry` of its folder: the build registers every patch of
every service of the application under the object it targets (kind and name); `SophiaConstruct._emit`
hands each object to the registry, which applies the patches meant for it, in order, and marks the
object with a `sophia.ai/patched` annotation (so that the patch shows in `sophia diff` and the
summary): each patch's file, field path and operations, never a line number, so that editing
lines above a patch leaves dist/ as it was. An operation that fails (a path that does not exist,
a failed test) and a patch whose target is never generated are problems located at the file and
line they are written at, saying in one line which path of which object is missing and why. The
patched object is checked by `sophia validate` like any other.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonpatch
import jsonpointer

from sophia.errors import Problem

if TYPE_CHECKING:
    from sophia.model.platform import LocatedPatch

PATCHED_ANNOTATION = "sophia.ai/patched"


@dataclass
class PatchRegistry:
    """The patches of one application folder, by the object they target."""

    folder: str
    pending: dict[tuple[str, str], list[LocatedPatch]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    emitted: set[tuple[str, str]] = field(default_factory=set)

    def add(self, patch: LocatedPatch) -> None:
        target = patch.patch.target
        self.pending.setdefault((target.kind, target.name), []).append(patch)

    def apply(self, manifest: Mapping[str, object]) -> Mapping[str, object]:
        """`manifest` (any object a construct built: its TypedDict) with the patches that target it applied
        (the object itself when there are none)."""
        obj: Mapping[str, Any] = manifest
        key = (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name")))
        self.emitted.add(key)
        patches = self.pending.pop(key, [])
        if not patches:
            return manifest
        patched: dict[str, Any] = copy.deepcopy(dict(obj))
        patched.setdefault("metadata", {}).setdefault("annotations", {})[PATCHED_ANNOTATION] = patched_note(patches)
        for patch in patches:
            patched = self._apply_one(patched, patch, key)
        return patched

    def _apply_one(self, manifest: dict[str, Any], patch: LocatedPatch, key: tuple[str, str]) -> dict[str, Any]:
        for index, operation in enumerate(patch.patch.operations):
            op = operation.model_dump(by_alias=True, exclude_none=operation.op not in ("add", "replace", "test"))
            try:
                manifest = jsonpatch.apply_patch(manifest, [op])
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                ref = f"{key[0]}/{key[1]}"
                what = (f"{operation.op} from {operation.from_} to {operation.path}" if operation.op in ("move", "copy")
                        else f"{operation.op} {operation.path}")
                hint = ("" if isinstance(exc, jsonpatch.JsonPatchTestFailed) else
                        "patch paths are JSON pointers into the generated object: `sophia synth` without the patch, "
                        f"then read {self.folder}/{key[0]}-{key[1]}.yaml")
                self.problems.append(Problem(patch.file, patch.operation_lines[index], f"{patch.path}.operations[{index}]",
                                             f"{what}: {_why(manifest, op, ref, exc)}", hint))
                break
        return manifest

    def unapplied(self) -> list[Problem]:
        """A problem for each patch whose target this folder never generated."""
        problems: list[Problem] = []
        for (kind, name), patches in sorted(self.pending.items()):
            same_kind = sorted(n for k, n in self.emitted if k == kind)
            hint = f"{kind} objects here: {', '.join(same_kind)}" if same_kind else f"no {kind} is generated in {self.folder}"
            problems.extend(Problem(p.file, p.target_line, f"{p.path}.target",
                                    f"{kind}/{name} is not an object sophia generates in {self.folder}", hint) for p in patches)
        return problems


def patched_note(patches: list[LocatedPatch]) -> str:
    """The `sophia.ai/patched` annotation: each patch's file, field path and operations, in order.

    No line number: dist/ is a function of what the environments say, not of where they say it.
    """
    return "; ".join(f"{p.file} {p.path}: " + ", ".join(_operation(o) for o in p.patch.operations) for p in patches)


def _operation(operation: Any) -> str:
    if operation.op in ("move", "copy"):
        return f"{operation.op} {operation.from_} -> {operation.path}"
    return f"{operation.op} {operation.path}"


def _why(doc: Any, op: Mapping[str, Any], ref: str, exc: Exception) -> str:
    """Why `op` failed on `doc` (the object `ref`), in a line: the first path that is missing, and where."""
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        found = _missing(doc, op["path"], ref)
        return found or f"the value there is {_short(jsonpointer.resolve_pointer(doc, op['path']))}, not {_short(op['value'])}"
    if op.get("from") is not None:
        found = _missing(doc, op["from"], ref)
        if found:
            return found
        if op["op"] == "move" and (op["path"] + "/").startswith(op["from"] + "/"):
            return f"{op['from']} cannot move into itself ({op['path']})"
    found = _missing(doc, op["path"], ref, adding=op["op"] in ("add", "move", "copy"))
    reason = str(exc)
    return found or (reason if len(reason) <= 120 else reason[:117] + "...")


def _missing(doc: Any, pointer: str, ref: str, *, adding: bool = False) -> str | None:
    """What makes `pointer` miss in `doc` ("/a/b does not exist in Kind/name"), or None when it resolves.

    `adding`: only the parent must exist (the last token may name a new member, a list index up to
    its length, or `-`)."""
    tokens = jsonpointer.JsonPointer(pointer).parts
    node, at = doc, ""
    for i, token in enumerate(tokens):
        here = f"{at}/{jsonpointer.escape(token)}"
        last = adding and i == len(tokens) - 1
        if isinstance(node, dict):
            if token not in node and not last:
                return f"{here} does not exist in {ref}"
            node = node.get(token)
        elif isinstance(node, list):
            index = int(token) if token.isdigit() and (token == "0" or not token.startswith("0")) else None
            if last and (token == "-" or (index is not None and index <= len(node))):
                return None
            if index is None:
                return f"{here} does not exist in {ref}: {at or '/'} is a list, indexed by number"
            if index >= len(node):
                return f"{here} does not exist in {ref}: {at or '/'} has {len(node)} item(s)"
            node = node[index]
        else:
            return f"{here} does not exist in {ref}: {at} is {_short(node)}, not an object or a list"
        at = here
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
