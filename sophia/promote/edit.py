"""Round-trip edits of the environment files: the comments, order, quoting and layout a person
wrote stay as they were; only the value asked for changes (ruamel.yaml)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

HISTORY_KEPT = 10
"""Earlier promoted revisions kept in an Environment file (the model allows 20)."""


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@contextmanager
def editing(path: Path) -> Iterator[Any]:
    """Load `path` for editing; written back when the block ends without an error."""
    yaml = _yaml()
    document = yaml.load(path.read_text())
    yield document
    out = io.StringIO()
    yaml.dump(document, out)
    path.write_text(out.getvalue())


def set_image(release: Any, service: str, tag: str, note: str = "") -> str | None:
    """Pin `service` to `tag` in a loaded Release; returns the tag it had (None if none).

    An existing entry keeps its style (a flow mapping stays one); a digest pin is dropped, since the
    tag now says what runs. `note` becomes a comment beside the entry (why a tag was forced).
    """
    images = release["spec"].setdefault("images", CommentedMap())
    entry = images.get(service)
    old = str(entry.get("tag")) if isinstance(entry, dict) and entry.get("tag") is not None else None
    value = DoubleQuotedScalarString(tag)
    if isinstance(entry, CommentedMap):
        entry["tag"] = value
        entry.pop("digest", None)
    else:
        entry = CommentedMap([("tag", value)])
        entry.fa.set_flow_style()
        images[service] = entry
    if note:
        images.yaml_add_eol_comment(note, service)
    return old


def image_of(release: Any, service: str) -> str | None:
    """The tag `service` has in a loaded Release, if any."""
    entry = (release.get("spec") or {}).get("images", {}).get(service)
    return str(entry["tag"]) if isinstance(entry, dict) and entry.get("tag") is not None else None


def promote_revision(environment: Any, revision: str) -> str:
    """Point a loaded Environment's applications at `revision`; the one before joins the history."""
    promotion = environment["spec"]["promotion"]
    old = str(promotion["revision"])
    if old != revision:
        history = promotion.get("history")
        if not isinstance(history, CommentedSeq):
            history = CommentedSeq()
            promotion["history"] = history
        history.insert(0, old)
        del history[HISTORY_KEPT:]
        promotion["revision"] = revision
    return old


def roll_back(environment: Any) -> tuple[str, str]:
    """Point a loaded Environment's applications at the newest revision of its history: (from, to)."""
    promotion = environment["spec"]["promotion"]
    history = promotion.get("history") or []
    if not history:
        raise LookupError("no earlier promoted revision to go back to")
    old, new = str(promotion["revision"]), str(history[0])
    promotion["revision"] = new
    del history[0]
    if not history:
        del promotion["history"]
    return old, new
