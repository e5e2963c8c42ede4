"""`sophia validate` and `sophia policy`: the offline pull-request check of rendered manifests.

Public API: `validate_paths`, `run_policy`, `check_paths`, `Report`, `Finding`,
`SchemaCatalog`, `KUBERNETES_VERSION`, `UsageError`, `CatalogError`.
"""

from __future__ import annotations

from .catalog import CatalogError, SchemaCatalog
from .command import check_paths, policy, validate
from .documents import UsageError
from .policy import Rule, all_rules, run_policy
from .report import Finding, Report, render_json, render_text
from .schema import validate_paths
from .settings import CRD_SCHEMAS_ENV, KUBERNETES_VERSION

__all__ = [
    "CRD_SCHEMAS_ENV",
    "KUBERNETES_VERSION",
    "CatalogError",
    "Finding",
    "Report",
    "SchemaCatalog",
    "UsageError",
    "Rule",
    "all_rules",
    "check_paths",
    "policy",
    "render_json",
    "render_text",
    "run_policy",
    "validate",
    "validate_paths",
]
