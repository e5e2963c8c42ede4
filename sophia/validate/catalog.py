"""Schema lookup and the compile cache: one compiled validator per (apiVersion, kind) per run.

Built-in kinds come from the strict schemas of `KUBERNETES_VERSION` shipped inside
kubernetes-validate (`<kind>-<group>-<version>.json`, which `$ref` into `_definitions.json`).
`_definitions.json` is parsed once and put in one `jsonschema_rs.Registry`, so every `$ref` is
resolved in Rust without touching the disk again.

Custom resources come from the CRDs of the add-on releases the cluster pins (`crds.CrdCatalog`),
turned into strict JSON Schemas the way the API server applies them (`crd_schema`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from .crd_schema import FORMATS, strict_schema
from .crds import CrdCatalog, CrdLookup, CrdVersion
from .settings import KUBERNETES_VERSION, kubernetes_schema_dir

_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"

CLUSTER_SCOPED = frozenset({
    ("", "ComponentStatus"), ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"), ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"), ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "DeviceTaintRule"), ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"), ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"), ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
})
"""The cluster-scoped built-in kinds of Kubernetes 1.33 (`kubectl api-resources --namespaced=false`), by (group,
kind); every other built-in kind is namespaced. The OpenAPI schemas do not say which are: the API server's
discovery does, and this is its answer (`tests/test_argocd_verdict.py` checks each has a 1.33 schema)."""


class CatalogError(Exception):
    """A schema folder is missing or a schema file cannot be used (exit status 2 for folders)."""


@dataclass(frozen=True)
class Lookup:
    """The compiled validator of one (apiVersion, kind), or why there is none."""

    validator: jsonschema_rs.Validator | None
    source: str
    problem: str = ""
    hint: str = ""
    crd: CrdVersion | None = None


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


class SchemaCatalog:
    """Finds and compiles schemas on first use; every later lookup is a dict hit."""

    def __init__(self, crds: CrdCatalog | None = None, kubernetes_dir: Path | None = None) -> None:
        self.kubernetes_dir = kubernetes_dir or kubernetes_schema_dir()
        if not (self.kubernetes_dir / "_definitions.json").is_file():
            raise CatalogError(
                f"no Kubernetes {KUBERNETES_VERSION} strict schemas at {self.kubernetes_dir}; "
                "reinstall the pinned kubernetes-validate (make setup)"
            )
        self.crds = crds if crds is not None else CrdCatalog(None, ())
        self._registry: jsonschema_rs.Registry | None = None
        self._cache: dict[tuple[str, str], tuple[Lookup, ...]] = {}

    @property
    def registry(self) -> jsonschema_rs.Registry:
        if self._registry is None:
            definitions = _read_json(self.kubernetes_dir / "_definitions.json")
            self._registry = jsonschema_rs.Registry([(_DEFINITIONS_URI, definitions)])
        return self._registry

    def lookup(self, api_version: str, kind: str) -> tuple[Lookup, ...]:
        """The validators an object must pass: one built-in schema, or the CRD of each pinned release."""
        key = (api_version, kind)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._compile(api_version, kind)
        return found

    def namespaced(self, api_version: str, kind: str) -> bool | None:
        """Whether objects of a kind live in a namespace, as the API server's discovery answers: built-in
        kinds by `CLUSTER_SCOPED`, custom ones by the `scope` of their pinned CRD; None when unknown."""
        for found in self.lookup(api_version, kind):
            if found.crd is not None:
                return found.crd.namespaced
            if found.validator is not None:
                return (split_api_version(api_version)[0], kind) not in CLUSTER_SCOPED
        return None

    def _compile(self, api_version: str, kind: str) -> tuple[Lookup, ...]:
        group, version = split_api_version(api_version)
        builtin = self.builtin_schema(group, version, kind)
        try:
            if builtin is not None:
                path, schema = builtin
                return (Lookup(jsonschema_rs.validator_for(schema, registry=self.registry), str(path)),)
            if not group:
                return (Lookup(None, "", f"no kind {kind} in Kubernetes {KUBERNETES_VERSION} core/{version}",
                               "check apiVersion and kind"),)
            return tuple(self._custom(found) for found in self.crds.lookup(group, version, kind))
        except (CatalogError, ValueError) as exc:
            return (Lookup(None, "", f"schema for {kind} {api_version} cannot be used: {exc}"),)

    def _custom(self, found: CrdLookup) -> Lookup:
        crd = found.crd
        if crd is None:
            return Lookup(None, "", found.problem, found.hint)
        validator = jsonschema_rs.Draft4Validator(
            strict_schema(crd.schema), registry=self.registry, validate_formats=True, formats=FORMATS,
        )
        return Lookup(validator, crd.source, crd=crd)

    def builtin_schema(self, group: str, version: str, kind: str) -> tuple[Path, dict[str, Any]] | None:
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
