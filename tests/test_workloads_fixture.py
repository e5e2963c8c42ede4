"""The `workloads` fixture (init containers, sidecars, preStop, spread, pod metadata, a node agent and
a one-off job) compiles to objects the API server accepts and the policy passes -- the verdict of
`sophia validate` -- and checkov, the independent judge, finds nothing either."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import CRDS, REPO, pinned_crds
from pod_fixture import WORKLOADS

from sophia.pipeline import compile_tree
from sophia.validate import SchemaCatalog, validate_paths
from sophia.validate.policy import run_policy

CHECKOV = REPO / ".venv-checkov/bin/checkov"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("workloads") / "dist"
    for rel, text in compile_tree(WORKLOADS).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out


def test_the_api_server_and_the_policy_accept_every_object(dist: Path) -> None:
    report = validate_paths([dist], catalog=SchemaCatalog(pinned_crds()))
    findings = [f.render() for f in report.findings if CRDS or "no CRD folder is given" not in f.message]
    assert findings == []
    assert len(report.resources) == len(list(dist.rglob("*.yaml"))) > 40
    assert {"DaemonSet", "Job", "Deployment", "StatefulSet"} <= {p.name.split("-")[0] for p in dist.rglob("*.yaml")}
    policy = run_policy([dist], repo_root=dist.parent)
    assert [f.render() for f in policy.findings] == []


@pytest.mark.slow
def test_checkov_passes_it(dist: Path) -> None:
    if not CHECKOV.exists():
        pytest.skip("checkov's tool environment is missing: `make test` (or `make checkov`) creates .venv-checkov")
    proc = subprocess.run([str(CHECKOV), "-d", str(dist), "--config-file", ".checkov.yaml", "-o", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    summary = json.loads(proc.stdout)["summary"]
    assert (summary["failed"], summary["passed"] > 100) == (0, True), proc.stdout[-3000:]
