"""Schema lookup and the compile cache: one compiled validator per (apiVersion, kind) per run.

Built-in kinds come from the strict schemas of `KUBERNETES_VERSION` shipped inside
kubernetes-validate (`<kind>-<group>-<version>.json`, which `$ref` into `_definitions.json`).
`_definitions.json` is parsed once and put in one `jsonschema_rs.Registry`, so every `$ref` is
resolved in Rust without touching the disk again.

Custom resources come from a CRDs-catalog folder (`<group>/<kind-lowercase>_<version>.json`, the
kubeconform layout). Those schemas are tightened once when loaded, like `kubeconform -strict`:
an object that lists `properties` but says nothing of `additionalProperties` (and does not carry
`x-kubernetes-preserve-unknown-fields`) is closed, and an open `metadata` is replaced by the
strict Kubernetes `ObjectMeta`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from .settings import KUBERNETES_VERSION, kubernetes_schema_dir

_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META = {"$ref": f"{_DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


class CatalogError(Exception):
    """A schema folder is missing or a schema file cannot be used (exit status 2 for folders)."""


@dataclass(frozen=True)
class Lookup:
    """The compiled validator of one (apiVersion, kind), or why there is none."""

    validator: jsonschema_rs.Validator | None
    source: str
    problem: str = ""


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


class SchemaCatalog:
    """Finds, tightens and compiles schemas on first use; every later lookup is a dict hit."""

    def __init__(self, crd_location: Path | None = None, kubernetes_dir: Path | None = None) -> None:
        self.kubernetes_dir = kubernetes_dir or kubernetes_schema_dir()
        if not (self.kubernetes_dir / "_definitions.json").is_file():
            raise CatalogError(
                f"no Kubernetes {KUBERNETES_VERSION} strict schemas at {self.kubernetes_dir}; "
                "reinstall the pinned kubernetes-validate (make setup)"
            )
        if crd_location is not None and not crd_location.is_dir():
            raise CatalogError(f"{crd_location}: CRD schema catalog folder not found")
        self.crd_location = crd_location
        self._registry: jsonschema_rs.Registry | None = None
        self._cache: dict[tuple[str, str], Lookup] = {}

    @property
    def registry(self) -> jsonschema_rs.Registry:
        if self._registry is None:
            definitions = _read_json(self.kubernetes_dir / "_definitions.json")
            self._registry = jsonschema_rs.Registry([(_DEFINITIONS_URI, definitions)])
        return self._registry

    def lookup(self, api_version: str, kind: str) -> Lookup:
        key = (api_version, kind)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compile(api_version, kind)
        return found

    def _compile(self, api_version: str, kind: str) -> Lookup:
        group, version = split_api_version(api_version)
        builtin = self._builtin_schema(group, version, kind)
        try:
            if builtin is not None:
                path, schema = builtin
                return Lookup(jsonschema_rs.validator_for(schema, registry=self.registry), str(path))
            if self.crd_location is None:
                return Lookup(
                    None,
                    "",
                    f"no schema for {kind} {api_version}: not a Kubernetes {KUBERNETES_VERSION} kind "
                    "and no CRD catalog given (--schema-location or SOPHIA_CRD_SCHEMAS)",
                )
            crd_file = self.crd_location / group / f"{kind.lower()}_{version}.json"
            if not crd_file.is_file():
                return Lookup(
                    None,
                    "",
                    f"no schema for {kind} {api_version}: not a Kubernetes {KUBERNETES_VERSION} kind "
                    f"and no {crd_file} in the CRD catalog",
                )
            schema = tighten(_read_json(crd_file))
            if "$schema" in schema:
                return Lookup(jsonschema_rs.validator_for(schema, registry=self.registry), str(crd_file))
            # Like kubeconform: a catalog schema without `$schema` is draft-04.
            return Lookup(jsonschema_rs.Draft4Validator(schema, registry=self.registry), str(crd_file))
        except (CatalogError, ValueError) as exc:
            return Lookup(None, "", f"schema for {kind} {api_version} cannot be used: {exc}")

    def _builtin_schema(self, group: str, version: str, kind: str) -> tuple[Path, dict[str, Any]] | None:
        """The strict built-in schema file, checked against its group/version/kind, or None."""
        if not kind or not version:
            return None
        short = group.split(".", 1)[0]
        name = f"{kind.lower()}-{short}-{version}.json" if group else f"{kind.lower()}-{version}.json"
        path = self.kubernetes_dir / name
        if not path.is_file():
            return None
        try:
            schema = _read_json(path)
        except CatalogError:
            return None
        gvks = schema.get("x-kubernetes-group-version-kind", [])
        if any(g.get("group") == group and g.get("version") == version and g.get("kind") == kind for g in gvks):
            return path, schema
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path}: {exc}") from None
    if not isinstance(value, dict):
        raise CatalogError(f"{path}: a schema must be a JSON object")
    return value


def tighten(schema: dict[str, Any]) -> dict[str, Any]:
    """Close every object schema that lists properties without saying what else is allowed."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                stack.extend(value.values())
            elif key not in ("enum", "const", "default", "example", "required"):
                stack.append(value)
    props = schema.get("properties")
    if isinstance(props, dict):
        meta = props.get("metadata")
        if isinstance(meta, dict) and "properties" not in meta and "$ref" not in meta:
            props["metadata"] = dict(_OBJECT_META)
    return schema
