"""The CRD folder for machines that have none, and the same truth for kubeconform.

* `fetch`: download the CRDs of the pinned releases listed in `crds.lock.yaml` (each file by a URL
  that names a commit, with its sha256) into `<out>/<project>/<release>/`, the layout `--crds`
  reads. A file whose checksum differs is refused and nothing of its release is kept.
* `export`: write strict, standalone JSON Schemas in kubeconform's layout: custom resources as
  `<out>/<group>/<kind>_<version>.json` (every served version of every CRD of the pinned releases,
  made strict as `crd_schema` makes them), built-in kinds used by the checked manifests as
  `<out>/kubernetes/<kind>-<group>-<version>.json` (the strict Kubernetes schemas sophia reads).
  Each file carries the definitions it refers to, so kubeconform needs no network.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from .catalog import SchemaCatalog, split_api_version
from .crd_schema import strict_schema
from .documents import Resource

LOCK_FILE = "crds.lock.yaml"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"
_EXPORTED_FORMATS = {"k8s-date-time": "date-time"}
"""The k8s formats kubeconform knows under a standard name; it is not told of the others."""


class LockError(Exception):
    """The lock file is wrong, or a download failed or did not match (exit status 2)."""


def read_lock(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    """`{"<project>/<release>": {file name: {"url", "sha256"}}}` from the lock file."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LockError(f"{path}: {exc}") from None
    lock: dict[str, dict[str, dict[str, str]]] = {}
    for key, entry in (data or {}).items():
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict) or str(key).count("/") != 1:
            raise LockError(f"{path}: {key}: expected '<project>/<release>: {{files: {{name: {{url, sha256}}}}}}'")
        lock[str(key)] = {str(name): {"url": str(f["url"]), "sha256": str(f["sha256"])} for name, f in files.items()}
    return lock


def fetch(lock: dict[str, dict[str, dict[str, str]]], releases: Iterable[str], out: Path,
          download: Callable[[str], bytes] | None = None) -> list[Path]:
    """Download every file of `releases` (`<project>/<release>`) into `out`; returns the files written."""
    get = download or _download
    written: list[Path] = []
    for key in sorted(set(releases)):
        files = lock.get(key)
        if files is None:
            raise LockError(f"{key} is pinned but not in {LOCK_FILE}: add its CRD files with their sha256")
        target = out / key
        staging = Path(tempfile.mkdtemp(prefix=".crds-", dir=out if out.is_dir() else None))
        try:
            for name, source in sorted(files.items()):
                data = get(source["url"])
                digest = hashlib.sha256(data).hexdigest()
                if digest != source["sha256"]:
                    raise LockError(f"{key}/{name}: sha256 {digest} from {source['url']}, expected {source['sha256']}")
                (staging / name).write_bytes(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            shutil.move(str(staging), target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        written.extend(sorted(target.iterdir()))
    return written


def _download(url: str) -> bytes:
    if not url.startswith("https://"):
        raise LockError(f"{url}: only https:// sources are fetched")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - https only, checked above
            data: bytes = response.read()
    except OSError as exc:
        raise LockError(f"{url}: {exc}") from None
    return data


def export(out: Path, catalog: SchemaCatalog, resources: Iterable[Resource]) -> list[Path]:
    """Write the schemas (see the module docstring); returns the files written."""
    definitions = json.loads((catalog.kubernetes_dir / "_definitions.json").read_text())["$defs"]
    written: list[Path] = []
    for crd in catalog.crds.all_versions():
        if crd.served:
            path = out / crd.group / f"{crd.kind.lower()}_{crd.version}.json"
            written.append(_write(path, standalone(strict_schema(crd.schema), definitions)))
    kinds = sorted({(r.api_version, r.kind) for r in resources if r.api_version and r.kind})
    for api_version, kind in kinds:
        group, version = split_api_version(api_version)
        builtin = catalog.builtin_schema(group, version, kind)
        if builtin is not None:
            path, schema = builtin
            written.append(_write(out / "kubernetes" / path.name, standalone(schema, definitions)))
    return written


def _write(path: Path, schema: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    return path


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every Kubernetes definition it refers to inside it, as draft-04 JSON Schema."""
    needed: dict[str, Any] = {}
    todo = [schema]
    while todo:
        for ref in _refs(todo.pop()):
            name = ref.rsplit("/", 1)[-1]
            if name not in needed and name in definitions:
                needed[name] = definitions[name]
                todo.append(definitions[name])
    body = _rewrite(copy.deepcopy(schema))
    body.pop("$schema", None)
    return {"$schema": DRAFT_04, **body, "definitions": {name: _rewrite(copy.deepcopy(d)) for name, d in sorted(needed.items())}}


def _refs(node: Any) -> Iterable[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and "#/$defs/" in ref:
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and "#/$defs/" in ref:
            out["$ref"] = "#/definitions/" + ref.rsplit("/", 1)[-1]
        if isinstance(out.get("format"), str) and out["format"].startswith("k8s-"):
            exported = _EXPORTED_FORMATS.get(out["format"])
            if exported is None:
                del out["format"]
            else:
                out["format"] = exported
        return out
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node
