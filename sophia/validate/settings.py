"""Pinned versions and locations the validator reads; nothing here touches the disk."""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "1.33"
"""Kubernetes minor whose strict JSON schemas (shipped inside kubernetes-validate) we validate against."""

CRDS_ENV = "SOPHIA_CRDS"
"""Environment variable naming the CRD folder: the add-ons' CustomResourceDefinitions as they ship
them, `<project>/<release tag>/*.yaml` (only the releases the Cluster files pin are read)."""

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


def crd_folder_from_env() -> Path | None:
    """The CRD folder named by `SOPHIA_CRDS`, or None when unset or empty."""
    value = os.environ.get(CRDS_ENV, "").strip()
    return Path(value) if value else None
