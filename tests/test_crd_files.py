"""The CRD folder by lock (`sophia crds fetch`), and kubeconform's schemas from it (`sophia crds export`)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import CRDS, REPO, needs_crds, pinned_crds
from jsonschema import Draft4Validator

from sophia.validate import SchemaCatalog
from sophia.validate.catalog import split_api_version
from sophia.validate.command import pins_of
from sophia.validate.crd_files import LockError, export, fetch, read_lock

LOCK = read_lock(REPO / "crds.lock.yaml")
PINNED = {f"{r.project}/{r.release}" for r in pins_of(REPO / "environments").releases}


def test_every_pinned_release_is_locked_by_commit() -> None:
    assert set(LOCK) == PINNED, "crds.lock.yaml lists exactly the releases the Cluster files pin"
    for key, files in LOCK.items():
        for name, source in files.items():
            assert re.fullmatch(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/\S+", source["url"]), (key, name)
            assert source["url"].endswith("/" + name)
            assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])


@needs_crds
def test_the_lock_describes_the_crd_folder_file_for_file() -> None:
    for key, files in LOCK.items():
        folder = Path(CRDS) / key
        assert sorted(p.name for p in folder.glob("*.yaml")) == sorted(files), key
        for name, source in files.items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == source["sha256"], f"{key}/{name}"


def _fake_download(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    by_url = {source["url"]: files[name] for entry in LOCK.values() for name, source in entry.items() if name in files}
    return lambda url: by_url[url]


def test_fetch_writes_the_release_folders_and_refuses_a_changed_file(tmp_path: Path) -> None:
    lock = {"widgets/v1.0.0": {"w.yaml": {"url": "https://example.org/abc/w.yaml", "sha256": hashlib.sha256(b"ok\n").hexdigest()}}}
    written = fetch(lock, ["widgets/v1.0.0"], tmp_path, download=lambda url: b"ok\n")
    assert written == [tmp_path / "widgets/v1.0.0/w.yaml"] and written[0].read_bytes() == b"ok\n"
    with pytest.raises(LockError, match=r"widgets/v1.0.0/w.yaml: sha256 [0-9a-f]{64} from https://example.org/abc/w.yaml, expected"):
        fetch(lock, ["widgets/v1.0.0"], tmp_path / "other", download=lambda url: b"changed\n")
    assert not (tmp_path / "other" / "widgets").exists(), "nothing of a refused release is kept"
    with pytest.raises(LockError, match="widgets/v2.0.0 is pinned but not in crds.lock.yaml"):
        fetch(lock, ["widgets/v2.0.0"], tmp_path)


def _kubeconform_like(schemas: Path, dist: Path) -> list[str]:
    """What kubeconform does with `-schema-location` set to the two exported layouts: each document
    against the first schema found, with a second JSON Schema implementation (not sophia's)."""
    problems: list[str] = []
    for path in sorted(dist.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            group, version = split_api_version(doc["apiVersion"])
            kind = doc["kind"].lower()
            short = group.split(".", 1)[0]
            candidates = [schemas / "kubernetes" / (f"{kind}-{short}-{version}.json" if group else f"{kind}-{version}.json"),
                          schemas / group / f"{kind}_{version}.json"]
            found = next((c for c in candidates if c.is_file()), None)
            if found is None:
                problems.append(f"{path}: no schema")
                continue
            for error in Draft4Validator(json.loads(found.read_text())).iter_errors(doc):
                problems.append(f"{path}: {error.message}")
    return problems


@needs_crds
def test_exported_schemas_accept_dist_and_refuse_a_field_the_release_lacks(tmp_path: Path) -> None:
    catalog = SchemaCatalog(pinned_crds())
    from sophia.validate.documents import read_paths

    export(tmp_path / "schemas", catalog, read_paths([REPO / "dist"]).resources)
    store = json.loads((tmp_path / "schemas/external-secrets.io/clustersecretstore_v1.json").read_text())
    assert store["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "https://" not in json.dumps(store).split('"definitions"')[0].replace('"$schema": "http://json-schema.org', "")
    assert _kubeconform_like(tmp_path / "schemas", REPO / "dist") == []

    dist = tmp_path / "dist"
    shutil.copytree(REPO / "dist/production/platform", dist)
    store_file = dist / "ClusterSecretStore-pulumi-esc-production.yaml"
    text = store_file.read_text()
    assert "      project: default\n" in text
    store_file.write_text(text.replace("      project: default\n", "      project: default\n      projcet: typo\n"))
    assert [p.split(": ", 1)[1] for p in _kubeconform_like(tmp_path / "schemas", dist)] == [
        "Additional properties are not allowed ('projcet' was unexpected)"
    ]
