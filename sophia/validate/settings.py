"""Pinned versions and locations the validator reads; nothing here touches the disk."""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "1.33"
"""Kubernetes minor whose strict JSON schemas (shipped inside kubernetes-validate) we validate against."""

CRD_SCHEMAS_ENV = "SOPHIA_CRD_SCHEMAS"
"""Environment variable naming the CRD catalog folder (`<group>/<kind>_<version>.json`)."""

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest manifest file read (8 MiB); bigger files are reported, not read."""

YAML_SUFFIXES = (".yaml", ".yml")


def kubernetes_schema_dir() -> Path:
    """The strict schema folder of `KUBERNETES_VERSION` inside the installed kubernetes-validate."""
    import importlib.util

    # Found without importing the package: its import (jsonschema and more) costs ~0.17 s, and
    # only its data files are used.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("kubernetes-validate is not installed (it ships the Kubernetes schemas)")
    base = Path(spec.origin).parent / "kubernetes-json-schema"
    return base / f"v{KUBERNETES_VERSION}.0-local-strict"


def crd_location_from_env() -> Path | None:
    """The CRD catalog named by `SOPHIA_CRD_SCHEMAS`, or None when unset or empty."""
    value = os.environ.get(CRD_SCHEMAS_ENV, "").strip()
    return Path(value) if value else None
