"""`sophia validate` and `sophia policy`: the offline pull-request check of rendered manifests.

Public API: `validate_paths`, `run_policy`, `check_paths`, `Report`, `Finding`,
`SchemaCatalog`, `KUBERNETES_VERSION`, `UsageError`, `CatalogError`.
"""

from __future__ import annotations

from .catalog import CatalogError, SchemaCatalog
from .documents import UsageError
from .report import Finding, Report
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
    "validate_paths",
]
