"""Monitoring: a service's `metrics` opens its port to the cluster's Prometheus and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.errors import SpecError
from sophia.model.loader import load
from sophia.pipeline import compile_tree

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"

MONITORED = """\
  addons:
    prometheus-crds:
      release: v0.89.0
      git: {repoURL: "https://github.com/prometheus-operator/prometheus-operator.git", path: example/prometheus-operator-crd-full}
      namespace: monitoring
      wave: -28
      crds: {groups: [monitoring.coreos.com], project: prometheus-operator}
    stack:
      release: v0.89.0
      chart: {repo: "https://prometheus-community.github.io/helm-charts", name: kube-prometheus-stack, version: 82.15.1}
      namespace: monitoring
      wave: -22
  monitoring:
    prometheus: stack
"""
"""The basic fixture's cluster with a Prometheus add-on and its CRDs (inserted before nodePools)."""

DB_METRICS = ("        postgres: {port: 5432, scheme: postgresql}\n",
              "        postgres: {port: 5432, scheme: postgresql}\n        metrics: {port: 9187}\n      metrics: {port: metrics}\n")
"""The db service serves metrics on a second port (an exporter sidecar, say)."""


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    return root


def _edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def _monitored(root: Path) -> None:
    _edit(root, "cluster.yaml", "  nodePools:\n", MONITORED + "  nodePools:\n")


def _compiled(root: Path) -> dict[str, Any]:
    return {p: yaml.safe_load(t) for p, t in compile_tree(root).items() if p.endswith(".yaml")}


def _policies(out: dict[str, Any]) -> dict[str, Any]:
    return {p: o for p, o in out.items() if o["kind"] == "NetworkPolicy"}


def _errors(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load(root)
    return info.value.render()


PROMETHEUS_TO_METRICS = {
    "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
              "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}],
    "ports": [{"port": 9187, "protocol": "TCP"}],
}


def test_the_metrics_port_is_opened_to_prometheus_and_nothing_else(tmp_path: Path) -> None:
    plain = _copy(tmp_path / "plain")
    _monitored(plain)
    scraped = _copy(tmp_path / "scraped")
    _monitored(scraped)
    _edit(scraped, "catalog.yaml", *DB_METRICS)
    before, after = _policies(_compiled(plain)), _policies(_compiled(scraped))
    db = "staging/data/NetworkPolicy-db.yaml"
    assert after[db]["spec"]["ingress"] == [*before[db]["spec"]["ingress"], PROMETHEUS_TO_METRICS]
    assert {p: o for p, o in after.items() if p != db} == {p: o for p, o in before.items() if p != db}
    assert after[db]["spec"]["egress"] == before[db]["spec"]["egress"]


def test_without_a_prometheus_in_the_cluster_metrics_open_nothing(tmp_path: Path) -> None:
    plain = _copy(tmp_path / "plain")
    scraped = _copy(tmp_path / "scraped")
    _edit(scraped, "catalog.yaml", *DB_METRICS)
    assert _policies(_compiled(scraped)) == _policies(_compiled(plain))


def test_an_environment_may_declare_metrics_for_a_catalogue_service(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _monitored(root)
    _edit(root, "staging.yaml", "      env: {LOG_LEVEL: debug}\n", "      env: {LOG_LEVEL: debug}\n      metrics: {port: http, path: /internal/metrics}\n")
    api = load(root).environments["staging"].services["api"].spec
    assert api.metrics is not None and (api.metrics.port, api.metrics.path) == ("http", "/internal/metrics")
    ingress = _policies(_compiled(root))["staging/apps/NetworkPolicy-api.yaml"]["spec"]["ingress"]
    assert ingress[-1] == {**PROMETHEUS_TO_METRICS, "ports": [{"port": 8000, "protocol": "TCP"}]}


@pytest.mark.parametrize(("file", "old", "new", "expected"), [
    pytest.param("catalog.yaml", "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n",
                 "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n      metrics: {port: metrics}\n",
                 "environments/catalog.yaml:7: spec.services.api: metrics.port 'metrics' is not one of the "
                 "service's ports", id="port-not-of-the-service"),
    pytest.param("catalog.yaml", "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n",
                 "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n      metrics: {port: http, path: metrics}\n",
                 "environments/catalog.yaml:23: spec.services.api.metrics.path: 'metrics' is not a valid URL path",
                 id="path-without-slash"),
    pytest.param("catalog.yaml", "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n",
                 "      autoscaling: {minReplicas: 2, maxReplicas: 4}\n      metrics: {port: http, interval: 15s}\n",
                 "environments/catalog.yaml:23: spec.services.api.metrics.interval: unknown field 'interval'",
                 id="unknown-field"),
    pytest.param("staging.yaml", "      env: {LOG_LEVEL: debug}\n", "      env: {LOG_LEVEL: debug}\n      metrics: {port: grpc}\n",
                 # A check across fields of the merged service is located at the service (as for expose.port).
                 "environments/catalog.yaml:7: spec.services.api: metrics.port 'grpc' is not one of the "
                 "service's ports", id="override-port-not-of-the-service"),
    pytest.param("cluster.yaml", "    prometheus: stack\n", "    prometheus: stak\n",
                 "environments/cluster.yaml:19: spec.monitoring.prometheus: add-on 'stak' is not defined\n"
                 "    hint: did you mean 'stack'?", id="prometheus-addon-undefined"),
])
def test_metrics_errors(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    _monitored(root)
    _edit(root, file, old, new)
    assert expected in _errors(root)
