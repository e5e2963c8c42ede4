"""sophia/k8s/ (typed Kubernetes shapes) is what tools/generate_types.py makes of today's schemas."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import CRDS, REPO

_spec = importlib.util.spec_from_file_location("generate_types", REPO / "tools" / "generate_types.py")
assert _spec is not None and _spec.loader is not None
generate_types = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate_types)

PACKAGE = REPO / "sophia" / "k8s"


def test_the_generated_types_are_fresh() -> None:
    """Kubernetes' modules always; the custom resources' modules too when the CRD folder is given."""
    files = generate_types.render_all(Path(CRDS) if CRDS else None)
    stale = sorted(name for name, text in files.items() if (PACKAGE / name).read_text() != text)
    assert stale == [], "run `make types` and commit sophia/k8s/"
    if CRDS:
        extra = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in files)
        assert extra == [], "modules no schema generates any more: delete them"
    assert {"core_v1.py", "apps_v1.py", "meta_v1.py", "batch_v1.py", "networking_v1.py"} <= set(files)
