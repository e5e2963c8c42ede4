"""CustomResourceDefinitions by add-on release: the schemas the cluster's API server enforces.

The CRD folder (`SOPHIA_CRDS`, `--crds DIR`) holds the definitions as the add-ons ship them, laid
out `<project>/<release tag>/*.yaml`. Only the releases the Cluster files pin (`Release`, read by
`sophia.validate.pins`) are ever read, so a custom resource is checked against exactly what runs:
a field that exists only in a later release is unknown, a version the release does not serve is
refused, and a kind of an API group no pinned add-on installs is an error.

Reading is lazy: a release's files are split into documents and only the documents that can
define a kind in use are parsed (a CRD bundle is megabytes of YAML; dist/ uses a few kinds). A
parsed document is kept as JSON in the user's cache folder, named by the sha256 of its text, so
the next run reads it ~100 times faster than YAML (benchmarks/README.md has the paired figures);
a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .settings import YAML_SUFFIXES

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DOCUMENT_START = re.compile(r"(?m)^---[ \t]*$")


@dataclass(frozen=True)
class Release:
    """One add-on release whose CRDs apply: `<project>/<release>/` of the CRD folder, serving `groups`."""

    addon: str
    project: str
    release: str
    groups: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.project} {self.release}"


@dataclass(frozen=True)
class CrdVersion:
    """One version of one CRD: its schema as the release defines it."""

    group: str
    kind: str
    version: str
    served: bool
    namespaced: bool
    schema: dict[str, Any]
    release: Release
    source: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def describe(self) -> str:
        return f"{self.kind} {self.api_version} of {self.release}"


@dataclass(frozen=True)
class CrdLookup:
    """The CRD version of a custom resource, or why there is none (and a hint)."""

    crd: CrdVersion | None
    problem: str = ""
    hint: str = ""


@dataclass
class _ReleaseFiles:
    release: Release
    folder: Path
    chunks: list[tuple[str, str]] | None = None
    """(file, text) of every YAML document of the release's files."""
    parsed: set[int] = field(default_factory=set)
    everything: bool = False


class CrdCatalog:
    """The CRDs of the pinned releases, read from `folder` on first use."""

    def __init__(self, folder: Path | None, releases: tuple[Release, ...]) -> None:
        self.folder = folder
        self.releases = releases
        self._by_group: dict[str, list[_ReleaseFiles]] = {}
        for release in releases:
            files = _ReleaseFiles(release, (folder / release.project / release.release) if folder else Path())
            for group in release.groups:
                self._by_group.setdefault(group, []).append(files)
        self._crds: dict[tuple[str, str], dict[str, CrdVersion]] = {}

    def lookup(self, group: str, version: str, kind: str) -> list[CrdLookup]:
        """The CRD version of `kind` in `group/version` for every pinned release serving the group.

        Several clusters may pin different releases of one add-on: an object must then satisfy
        each of them. An empty list never comes back: a problem is a `CrdLookup` without a CRD.
        """
        owners = self._by_group.get(group)
        if not owners:
            pinned = ", ".join(sorted(str(r) for r in self.releases)) or "none"
            return [CrdLookup(None, f"no add-on of the cluster installs the API group {group!r} (pinned: {pinned})",
                              "add the add-on that serves it to the Cluster file, with its release and crds.groups")]
        return [self._lookup_in(files, group, version, kind) for files in owners]

    def all_versions(self) -> list[CrdVersion]:
        """Every version of every CRD of the pinned releases whose files are in the folder."""
        for files in {id(f): f for owners in self._by_group.values() for f in owners}.values():
            if self.folder is not None and files.folder.is_dir():
                self._read(files, "", everything=True)
        return [crd for (_, _), versions in sorted(self._crds.items()) for _, crd in sorted(versions.items())]

    def _lookup_in(self, files: _ReleaseFiles, group: str, version: str, kind: str) -> CrdLookup:
        release = files.release
        if self.folder is None:
            return CrdLookup(None, f"{kind} ({group}) is defined by {release}, and no CRD folder is given",
                             "set SOPHIA_CRDS or pass --crds DIR (a folder laid out <project>/<release>/*.yaml; `make crds` fetches one)")
        if not files.folder.is_dir():
            return CrdLookup(None, f"{kind} ({group}) is defined by {release}, whose CRDs are not in {self.folder} "
                             f"(no folder {release.project}/{release.release})",
                             f"add the CRDs {release} ships to {files.folder}/")
        versions = self._versions(files, group, kind)
        if not versions:
            return CrdLookup(None, f"{release} defines no kind {kind} in API group {group}",
                             "check apiVersion and kind against the release's CRDs")
        found = versions.get(version)
        served = sorted(v for v, crd in versions.items() if crd.served)
        if found is None or not found.served:
            what = "does not serve" if found is not None else "does not define"
            return CrdLookup(None, f"{release} {what} {kind} {group}/{version} (served: {', '.join(served) or 'none'})",
                             f"use apiVersion {group}/{served[-1]}" if served else "")
        return CrdLookup(found)

    def _versions(self, files: _ReleaseFiles, group: str, kind: str) -> dict[str, CrdVersion]:
        key = (group, kind)
        if key not in self._crds:
            self._read(files, kind, everything=False)
            if key not in self._crds:
                self._read(files, kind, everything=True)
        return self._crds.get(key, {})

    def _read(self, files: _ReleaseFiles, kind: str, *, everything: bool) -> None:
        """Parse the release's documents that may define `kind` (or all of them, once)."""
        if files.everything:
            return
        if files.chunks is None:
            files.chunks = []
            for path in sorted(p for p in files.folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()):
                files.chunks.extend((str(path), chunk) for chunk in _DOCUMENT_START.split(path.read_text()))
        needles = (f"kind: {kind}\n", f'kind: "{kind}"', f"kind: '{kind}'")
        for index, (source, chunk) in enumerate(files.chunks):
            if index in files.parsed or not (everything or any(n in chunk for n in needles)):
                continue
            files.parsed.add(index)
            try:
                document = _parse(chunk)
            except yaml.YAMLError:
                continue  # not a document this catalog can use; the kind is then reported as undefined
            self._add(document, files.release, source)
        files.everything = everything

    def _add(self, document: Any, release: Release, source: str) -> None:
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            return
        spec = document.get("spec") or {}
        group, names = spec.get("group"), spec.get("names") or {}
        kind = names.get("kind")
        if not isinstance(group, str) or not isinstance(kind, str) or group not in release.groups:
            return
        versions = self._crds.setdefault((group, kind), {})
        for entry in spec.get("versions") or []:
            schema = ((entry.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object",
                                                                             "x-kubernetes-preserve-unknown-fields": True}
            versions[str(entry.get("name"))] = CrdVersion(
                group=group, kind=kind, version=str(entry.get("name")), served=bool(entry.get("served")),
                namespaced=spec.get("scope") != "Cluster", schema=schema, release=release, source=source,
            )


def cache_folder() -> Path:
    """Where parsed CRD documents are kept: `$XDG_CACHE_HOME/sophia/crd-documents` (~/.cache by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sophia" / "crd-documents"


def _parse(text: str) -> Any:
    """One YAML document, through the cache (keyed by the sha256 of its text)."""
    path = cache_folder() / f"{hashlib.sha256(text.encode()).hexdigest()}.json"
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        pass
    document = yaml.load(text, Loader=_Loader)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(document, separators=(",", ":")))  # TypeError: not JSON-shaped, not kept
        partial.replace(path)
    except (OSError, TypeError, ValueError):
        pass  # a read-only home, a full disk: parse again next time
    return document
