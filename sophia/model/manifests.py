"""Hand-written manifests: `environments/manifests/<environment>/<application>/*.yaml`.

For an object the model does not describe (a one-off ConfigMap, a vendor's CRD instance, a
PodMonitor), a person writes it as plain Kubernetes YAML in the folder of the environment and
application it belongs to. Each file may hold several documents. They are read by the same hardened
reader as every environment file and screened for IP and secret literals; each must be a mapping
with apiVersion, kind and metadata.name, and a namespaced object may only name its application's
namespace. The build writes them into the application's folder of dist/ as they are (no patches),
where `sophia validate` judges them like generated objects; a clash with a generated object is an
error.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sophia.model.platform import Env, HandWritten
from sophia.model.problems import Collector, Source, defined_names, read_documents, type_name

FOLDER = "manifests"


def is_manifest(path: Path, root: Path) -> bool:
    """Whether `path` lies in the hand-written manifests folder of `root` (not a sophia definition)."""
    return path.relative_to(root).parts[0] == FOLDER


def read(paths: list[Path], root: Path, display: Any, col: Collector) -> list[tuple[str, str, Source]]:
    """(environment, application, one document) of every hand-written manifest file among `paths`."""
    found: list[tuple[str, str, Source]] = []
    for path in paths:
        parts = path.relative_to(root).parts
        name = display(path, root)
        if len(parts) != 4:
            col.add(name, None, (), f"a hand-written manifest belongs in {FOLDER}/<environment>/<application>/<file>.yaml",
                    "move it into the folder of the environment and application it belongs to")
            continue
        documents = read_documents(path, name, col)
        if documents is None:
            continue
        found.extend((parts[1], parts[2], Source(name, doc)) for doc in documents)
    return found


def attach(envs: dict[str, Env], found: list[tuple[str, str, Source]], defined: set[str], col: Collector) -> dict[str, Env]:
    """`envs` with their hand-written objects; every object checked (problems go to `col`)."""
    by_env: dict[str, dict[str, list[HandWritten]]] = {}
    misplaced: set[str] = set()  # files reported once, whatever their number of documents
    for env_name, app, src in found:
        if env_name not in defined:
            if src.file not in misplaced:
                col.add(src.file, 1, (), f"no environment {env_name!r} for this manifest",
                        defined_names("environments", dict.fromkeys(defined)))
                misplaced.add(src.file)
            continue
        env = envs.get(env_name)
        if env is None:
            continue  # the environment has problems of its own, reported
        if app not in env.spec.namespaces:
            if src.file not in misplaced:
                col.add(src.file, 1, (), f"environment {env_name!r} has no application {app!r}",
                        defined_names("applications", env.spec.namespaces))
                misplaced.add(src.file)
            continue
        data = _checked(src, env.spec.namespaces[app], col)
        if data is not None:
            by_env.setdefault(env_name, {}).setdefault(app, []).append(HandWritten(src.file, src.doc.line_of(("metadata", "name")), data))
    return {name: replace(env, manifests={a: tuple(objs) for a, objs in sorted(by_env.get(name, {}).items())})
            for name, env in envs.items()}


def _checked(src: Source, namespace: str, col: Collector) -> dict[str, Any] | None:
    data = src.doc.data
    if not isinstance(data, dict):
        col.add(src.file, src.doc.start_line, (), f"a manifest must be a mapping, not a {type_name(data)}")
        return None
    problems = len(col.problems)
    for key in ("apiVersion", "kind"):
        if not isinstance(data.get(key), str) or not data[key]:
            col.add(src.file, src.doc.line_of((key,)), (key,), f"missing {key}", "every manifest needs apiVersion and kind")
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        col.add(src.file, src.doc.line_of(("metadata",)), ("metadata", "name"), "missing metadata.name")
    elif meta.get("namespace") not in (None, namespace):
        col.add(src.file, src.doc.line_of(("metadata", "namespace")), ("metadata", "namespace"),
                f"namespace {meta['namespace']!r}: this application's objects live in {namespace!r}",
                "leave metadata.namespace out: Argo CD puts the object in the application's namespace")
    return data if len(col.problems) == problems else None
