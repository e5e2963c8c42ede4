"""tools/import_crds.py (`make imports`): one `cdk8s import` per API group, holding every requested kind."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import CRDS, REPO, needs_crds

_spec = importlib.util.spec_from_file_location("import_crds", REPO / "tools" / "import_crds.py")
assert _spec is not None and _spec.loader is not None
import_crds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_crds)


def _crd(folder: Path, kind: str, group: str) -> Path:
    path = folder / f"{group}_{kind.lower()}s.yaml"
    path.write_text(f"---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                    f"metadata: {{name: {kind.lower()}s.{group}}}\nspec: {{group: {group}, names: {{kind: {kind}}}}}\n")
    return path


def test_the_files_of_one_group_are_imported_together(tmp_path: Path) -> None:
    service = _crd(tmp_path, "ServiceMonitor", "monitoring.coreos.com")
    issuer = _crd(tmp_path, "Issuer", "cert-manager.io")
    pod = _crd(tmp_path, "PodMonitor", "monitoring.coreos.com")
    assert import_crds.crd_groups([service, issuer, pod]) == {
        "cert-manager.io": [issuer],
        "monitoring.coreos.com": [pod, service],
    }


def test_a_file_of_no_crd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "not-a-crd.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(ValueError, match="not-a-crd.yaml: expected the CustomResourceDefinitions of one API group"):
        import_crds.crd_groups([path])


@pytest.mark.slow
@needs_crds
def test_two_kinds_of_one_group_both_reach_the_module(tmp_path: Path) -> None:
    """The real `cdk8s import`: adding PodMonitor once made ServiceMonitor vanish (same module, overwritten)."""
    if not (REPO / "node_modules/.bin/cdk8s").exists():
        pytest.skip("node_modules missing: run `make synth` once (npm ci)")
    out = tmp_path / "imports"
    wanted = ("monitoring.coreos.com_servicemonitors.yaml", "monitoring.coreos.com_podmonitors.yaml")
    import_crds.import_crds(Path(CRDS), {"prometheus-operator": wanted}, out)
    module = (out / "com/coreos/monitoring/__init__.py").read_text()
    assert "class ServiceMonitor(" in module
    assert "class PodMonitor(" in module
