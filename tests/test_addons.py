"""Cluster add-ons: the Applications under dist/clusters/<cluster>/argocd/, their sync waves, and the
Secrets they read from Pulumi ESC."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.errors import SpecError
from sophia.model.loader import load

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"
CLUSTER_ARGOCD = "clusters/sophia-k3s/argocd"
WAVE = "argocd.argoproj.io/sync-wave"


def _dist() -> dict[str, Any]:
    return {p.relative_to(ROOT / "dist").as_posix(): yaml.safe_load(p.read_text()) for p in (ROOT / "dist").rglob("*.yaml")}


def _waves(dist: dict[str, Any]) -> dict[str, int]:
    """The sync wave of every cluster Application, by name."""
    return {o["metadata"]["name"]: int(o["metadata"]["annotations"][WAVE])
            for p, o in dist.items() if p.startswith(f"{CLUSTER_ARGOCD}/Application-")}


def _copy(tmp_path: Path, source: Path = BASIC) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(source, root)
    return root


def _edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def _errors(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load(root)
    return info.value.render()


def test_the_runtime_class_syncs_before_every_addon() -> None:
    """GPU add-ons' pods name `runtimeClassName: nvidia`; the API server refuses them until the RuntimeClass
    exists, and the cluster root waits for each wave to be healthy, so the RuntimeClass comes first."""
    waves = _waves(_dist())
    runtime = waves["cluster-sophia-k3s-runtime"]
    addons = {name: wave for name, wave in waves.items() if name.startswith("addon-")}
    assert addons and all(runtime < wave for wave in addons.values()), (runtime, addons)


ADDON = """\
  addons:
    extra:
      release: v1.0.0
      chart: {repo: https://charts.example.org, name: extra, version: 1.0.0}
      namespace: extra
      wave: WAVE
"""


@pytest.mark.parametrize(("wave", "expected"), [
    pytest.param("-35", "environments/cluster.yaml:11: spec.addons.extra.wave: Input should be greater than or equal to -34",
                 id="with-the-runtime-class"),
    pytest.param("-20", "environments/cluster.yaml:11: spec.addons.extra.wave: Input should be less than or equal to -21",
                 id="after-the-addons"),
])
def test_addon_waves_stay_between_the_runtime_class_and_the_environments(tmp_path: Path, wave: str, expected: str) -> None:
    root = _copy(tmp_path)
    _edit(root, "cluster.yaml", "  nodePools:\n", ADDON.replace("WAVE", wave) + "  nodePools:\n")
    assert expected in _errors(root)
