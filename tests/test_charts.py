"""Each Argo CD application folder is a cdk8s Chart: any cdk8s construct placed under it reaches
that folder of dist/, one file per object; nothing in the construct tree is dropped silently."""

from __future__ import annotations

from pathlib import Path

import cdk8s
import cdk8s_plus_33 as kplus
import pytest
import yaml
from conftest import REPO

from sophia.build import build
from sophia.constructs.application_chart import ApplicationChart
from sophia.errors import CompileError
from sophia.model.loader import load
from sophia.render import render

PLATFORM = load(REPO / "environments")


def _tree() -> tuple[cdk8s.App, object, dict[str, ApplicationChart]]:
    app = cdk8s.App()
    root = build(PLATFORM, app)
    charts = {node.folder: node for node in root.nodes() if isinstance(node, ApplicationChart)}
    return app, root, charts


def test_every_folder_argo_cd_syncs_is_a_chart_with_its_namespace() -> None:
    _, _, charts = _tree()
    apps = [yaml.safe_load(p.read_text()) for p in (REPO / "dist").rglob("argocd/Application-*.yaml")]
    synced = {a["spec"]["source"]["path"].removeprefix("dist/") for a in apps if "chart" not in a["spec"]["source"]
              and a["spec"]["source"]["repoURL"].endswith("sophia-deploy.git")}
    assert synced == set(charts)
    assert charts["production/core"].namespace == "sophia-prod-core"
    assert charts["development/argocd"].namespace == "argocd"


def test_foreign_constructs_reach_their_application_folder(tmp_path: Path) -> None:
    app, root, charts = _tree()
    core = charts["production/core"]
    raw = cdk8s.ApiObject(core, "raw", api_version="v1", kind="ConfigMap", metadata={"name": "raw-settings"})
    raw.add_json_patch(cdk8s.JsonPatch.add("/data", {"a": "b"}))
    kplus.ConfigMap(core, "plus", metadata={"name": "plus-settings"}, data={"c": "d"})
    included = tmp_path / "extra.yaml"
    included.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: included-settings}\ndata: {e: f}\n")
    cdk8s.Include(core, "include", url=str(included))
    nested = cdk8s.Chart(core, "nested")
    cdk8s.ApiObject(nested, "deep", api_version="v1", kind="ConfigMap", metadata={"name": "nested-settings"})

    files = render(root, app.charts)

    for name in ("raw-settings", "plus-settings", "included-settings", "nested-settings"):
        doc = yaml.safe_load(files[f"production/core/ConfigMap-{name}.yaml"])
        assert doc["metadata"]["name"] == name
    assert yaml.safe_load(files["production/core/ConfigMap-raw-settings.yaml"])["metadata"]["namespace"] == "sophia-prod-core"
    assert "production/core/Deployment-backend.yaml" in files, "sophia's own objects are still there"


def test_a_chart_outside_every_application_folder_is_an_error() -> None:
    app, root, _ = _tree()
    stray = cdk8s.Chart(app, "stray")
    cdk8s.ApiObject(stray, "lost", api_version="v1", kind="ConfigMap", metadata={"name": "lost"})
    with pytest.raises(CompileError) as error:
        render(root, app.charts)
    [problem] = error.value.problems
    assert (problem.file, problem.message) == ("stray", "the chart holds 1 object(s) but is in no Argo CD application's folder, "
                                                        "so nothing would sync them")


def test_an_object_clashing_with_a_generated_one_is_an_error() -> None:
    app, root, charts = _tree()
    cdk8s.ApiObject(charts["production/core"], "twin", api_version="apps/v1", kind="Deployment", metadata={"name": "backend"})
    with pytest.raises(CompileError) as error:
        render(root, app.charts)
    assert [(p.file, p.path, p.message) for p in error.value.problems] == [
        ("sophia/production/core/twin", "Deployment/backend", "sophia already generates this object "
         "(production/core/Deployment-backend.yaml); the cdk8s construct sophia/production/core/twin may not define it again")]
