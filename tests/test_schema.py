"""The published JSON Schema matches the models and accepts the real environment files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from sophia.model.editor_schema import render_all

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "environments/schema"


@pytest.mark.parametrize("name", sorted(render_all()))
def test_published_schema_is_fresh(name: str) -> None:
    assert (SCHEMAS / name).read_text() == render_all()[name], "run `sophia schema` and commit environments/schema/"


def _files() -> list[Path]:
    return sorted(p for p in (ROOT / "environments").rglob("*.yaml"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_environment_file_references_and_passes_its_schema(path: Path) -> None:
    text = path.read_text()
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), f"{path}: first line must reference the schema"
    schema_path = (path.parent / first.split("=", 1)[1]).resolve()
    validator = jsonschema_rs.validator_for(json.loads(schema_path.read_text()))
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
    assert not errors, errors


def test_schema_catches_a_misspelled_service_field() -> None:
    validator = jsonschema_rs.validator_for(json.loads((SCHEMAS / "service-catalog.schema.json").read_text()))
    catalog = yaml.safe_load((ROOT / "environments/catalog.yaml").read_text())
    service = next(iter(catalog["spec"]["services"].values()))
    service["replicaz"] = 2
    assert not validator.is_valid(catalog)
