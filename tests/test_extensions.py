"""The extension point: Python functions that add cdk8s constructs to an application's chart
(`sophia.extensions`), their objects in dist/, and their failures as located problems."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, needs_crds, pinned_crds

from sophia.errors import CompileError
from sophia.extensions import load_extensions
from sophia.pipeline import compile_tree
from sophia.validate import check_paths

BASIC = REPO / "tests/fixtures/envs/basic"
FIXTURES = REPO / "tests/fixtures/extensions"


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    for name in [m for m in sys.modules if m.split(".")[0] in ("sample_extensions", "broken_extensions")]:
        monkeypatch.delitem(sys.modules, name)


def test_extensions_are_the_modules_that_define_a_hook_in_name_order() -> None:
    found = load_extensions("sample_extensions")
    assert [(e.name, e.extend_service is not None, e.extend_application is not None) for e in found] == [
        ("sample_extensions.settings", True, True)]
    assert load_extensions("no_such_package") == ()


def test_their_objects_reach_each_application_folder_and_validate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOPHIA_EXTENSIONS", "sample_extensions")
    files = compile_tree(BASIC)
    plain = compile_tree_without_extensions(monkeypatch)
    added = sorted(set(files) - set(plain))
    assert added == [
        "staging/apps/ConfigMap-api-extra.yaml", "staging/apps/ConfigMap-apps-marker.yaml",
        "staging/apps/ConfigMap-inference-extra.yaml", "staging/apps/ConfigMap-nightly-report-extra.yaml",
        "staging/apps/ConfigMap-queue-worker-extra.yaml", "staging/data/ConfigMap-data-marker.yaml",
        "staging/data/ConfigMap-db-extra.yaml",
    ]
    extra = yaml.safe_load(files["staging/apps/ConfigMap-api-extra.yaml"])
    assert (extra["metadata"]["namespace"], extra["data"]) == ("staging-apps", {"ENVIRONMENT": "staging", "SERVICE": "api"})
    assert all(files[p] == plain[p] for p in plain), "sophia's own objects are unchanged"
    out = tmp_path / "dist"
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    report = check_paths([str(out / "staging/apps"), str(out / "staging/data")], policy=True, repo_root=tmp_path)
    mine = [f for f in report.findings if any(f.file.endswith(rel) for rel in added)]
    assert mine == [], [f.render() for f in mine]
    assert {f.file for f in report.errors} <= {str(out / p) for p in plain}, "only sophia's own custom resources, without CRDs"


def compile_tree_without_extensions(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SOPHIA_EXTENSIONS", "no_such_package")
    return compile_tree(BASIC)


def test_a_failing_extension_is_a_located_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPHIA_EXTENSIONS", "broken_extensions")
    with pytest.raises(CompileError) as error:
        compile_tree(BASIC)
    rendered = [p.render() for p in error.value.problems]
    raises = FIXTURES / "broken_extensions/raises.py"
    unplaced = FIXTURES / "broken_extensions/unplaced.py"
    assert f"{raises}:10: broken_extensions.raises.extend_service: failed for service 'api' of staging: " \
           "ValueError: no port for the sidecar" in rendered
    assert any(r.startswith(f"{unplaced}:11: broken_extensions.unplaced.extend_application: failed for application 'apps' "
                            "of staging: RuntimeError: cannot find a parent chart") for r in rendered), rendered


def test_an_extension_that_cannot_be_imported_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "typo_extensions"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text("def extend_service(chart, env, service)\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CompileError) as error:
        load_extensions("typo_extensions")
    [problem] = error.value.problems
    assert (problem.file, problem.line, problem.message.split(":")[0]) == ("typo_extensions/bad.py", 1, "cannot import")


def test_an_extension_s_object_clashing_with_a_generated_one_names_the_extension(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "twin_extensions"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "twin.py").write_text(
        "import cdk8s\n\n\ndef extend_service(chart, env, service):\n    if service.name == 'api':\n"
        "        cdk8s.ApiObject(chart, 'env-again', api_version='v1', kind='ConfigMap', metadata={'name': 'api-env'})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SOPHIA_EXTENSIONS", "twin_extensions")
    with pytest.raises(CompileError) as error:
        compile_tree(BASIC)
    [problem] = error.value.problems
    assert (problem.file, problem.line, problem.path) == (str(package / "twin.py"), None, "ConfigMap/api-env")
    assert problem.message == ("sophia already generates this object (staging/apps/ConfigMap-api-env.yaml); the extension "
                               "twin_extensions.twin (construct sophia/staging/apps/env-again) may not define it again")
    assert "give its service `patches:`" in problem.hint


def test_the_shipped_example_monitors_every_service_that_declares_metrics() -> None:
    """extensions/service_monitor.py: a ServiceMonitor per service with `metrics:`, built with the classes
    `make imports` generated from the pinned prometheus-operator CRDs, in the service's application folder."""
    import extensions.service_monitor as example
    from sophia.model.loader import load

    assert example.monitoring.ServiceMonitor.__module__ == "extensions.imports.com.coreos.monitoring"
    assert [e.name for e in load_extensions("extensions")] == ["extensions.service_monitor"]
    platform = load(REPO / "environments")
    files = compile_tree(REPO / "environments")
    expected = {f"{env.name}/{svc.spec.application}/ServiceMonitor-{svc.name}.yaml": (env.name, svc)
                for env in platform.environments.values() for svc in env.services.values() if svc.spec.metrics}
    assert sorted(p for p in files if "/ServiceMonitor-" in p and not p.startswith("clusters/")) == sorted(expected)
    assert len(expected) >= 2
    for path, (env_name, svc) in expected.items():
        monitor = yaml.safe_load(files[path])
        assert svc.spec.metrics is not None
        assert monitor["spec"]["endpoints"] == [{"interval": "30s", "path": svc.spec.metrics.path, "port": svc.spec.metrics.port}]
        assert monitor["spec"]["selector"] == {
            "matchLabels": {"app.kubernetes.io/instance": f"{svc.name}-{env_name}", "app.kubernetes.io/name": svc.name},
            "matchExpressions": [{"key": "sophia.ai/headless", "operator": "DoesNotExist"}]}
        assert monitor["metadata"]["namespace"] == svc.namespace
        assert (REPO / "dist" / path).read_text() == files[path], "dist/ holds it"


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions) applied to `labels`."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    tests = {"In": lambda e: labels.get(e["key"]) in e["values"], "NotIn": lambda e: labels.get(e["key"]) not in e["values"],
             "Exists": lambda e: e["key"] in labels, "DoesNotExist": lambda e: e["key"] not in labels}
    return all(tests[e["operator"]](e) for e in selector.get("matchExpressions", []))


def test_the_example_s_monitor_selects_one_service_of_a_stateful_service(tmp_path: Path) -> None:
    """A stateful service has a headless and a client Service with the pods' labels: selecting both scrapes
    each pod twice. The ServiceMonitor must select the client Service alone, for every service."""
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    catalog = root / "catalog.yaml"
    old = "        postgres: {port: 5432, scheme: postgresql}\n"
    assert old in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(old, old + "        metrics: {port: 9187}\n      metrics: {port: metrics}\n", 1))
    objects = [yaml.safe_load(t) for p, t in compile_tree(root).items() if p.endswith(".yaml")]
    services = [o for o in objects if o["kind"] == "Service"]
    monitors = [o for o in objects if o["kind"] == "ServiceMonitor"]
    assert "db" in {m["metadata"]["name"] for m in monitors}
    assert {"db", "db-headless"} <= {s["metadata"]["name"] for s in services if s["metadata"]["namespace"] == "staging-data"}
    for monitor in monitors:
        selected = [s["metadata"]["name"] for s in services if s["metadata"]["namespace"] == monitor["metadata"]["namespace"]
                    and _selects(monitor["spec"]["selector"], s["metadata"]["labels"])]
        assert selected == [monitor["metadata"]["name"]], f"ServiceMonitor {monitor['metadata']['name']} selects {selected}"


@needs_crds
def test_the_example_s_objects_pass_the_pinned_crds() -> None:
    from sophia.validate import validate_paths

    monitors = sorted((REPO / "dist").glob("*/*/ServiceMonitor-*.yaml"))
    report = validate_paths(monitors, pinned_crds())
    assert report.ok and len(report.resources) == len(monitors) >= 2, report.summary()
