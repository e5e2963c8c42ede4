"""`sophia validate` and `sophia policy`: the offline pull-request check of rendered manifests.

Public API: `validate_paths`, `run_policy`, `check_paths`, `crd_catalog`, `Report`, `Finding`,
`SchemaCatalog`, `CrdCatalog`, `Release`, `KUBERNETES_VERSION`, `UsageError`, `CatalogError`.

The names are imported when first used (PEP 562): `sophia policy` needs neither the schema
checker nor the command. (`sophia synth` imports nothing of this package: the loader's literal
check is `sophia.values`.)
The click commands live in `.command` (`policy` here would be the submodule of that name).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import CatalogError, SchemaCatalog
    from .command import check_paths, crd_catalog
    from .crds import CrdCatalog, Release
    from .documents import UsageError
    from .policy import all_rules, run_policy
    from .report import Finding, Report, render_json, render_text
    from .rule import Rule
    from .schema import validate_paths
    from .settings import CRDS_ENV, KUBERNETES_VERSION

_HOME = {
    "CRDS_ENV": "settings",
    "CrdCatalog": "crds",
    "Release": "crds",
    "crd_catalog": "command",
    "KUBERNETES_VERSION": "settings",
    "CatalogError": "catalog",
    "Finding": "report",
    "Report": "report",
    "SchemaCatalog": "catalog",
    "UsageError": "documents",
    "Rule": "rule",
    "all_rules": "policy",
    "check_paths": "command",
    "render_json": "report",
    "render_text": "report",
    "run_policy": "policy",
    "validate_paths": "schema",
}

__all__ = [
    "CRDS_ENV",
    "CrdCatalog",
    "Release",
    "crd_catalog",
    "KUBERNETES_VERSION",
    "CatalogError",
    "Finding",
    "Report",
    "Rule",
    "SchemaCatalog",
    "UsageError",
    "all_rules",
    "check_paths",
    "render_json",
    "render_text",
    "run_policy",
    "validate_paths",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
