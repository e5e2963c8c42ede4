"""`type: daemonset` (`NodeAgent`): one pod on every node of its pool, hardened like every workload,
tolerating the pool's taints, and counted once per node by the capacity check."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import WORKLOADS, compiled, errors, pod

from sophia import capacity
from sophia.model.loader import load

AGENT = "staging/agents/DaemonSet-gpu-exporter.yaml"


def test_a_daemonset_of_the_pool_with_its_service() -> None:
    ds = compiled(AGENT)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    assert ds["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "gpu-exporter",
                                                      "app.kubernetes.io/instance": "gpu-exporter-staging"}
    spec = pod(ds)["spec"]
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "sophia.ai/pool", "operator": "In", "values": ["gpu"]}]}]
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}], \
        "it tolerates the pool's taints, or it would miss the pool's nodes"
    assert "runtimeClassName" not in spec and "nvidia.com/gpu" not in spec["containers"][0]["resources"]["limits"], \
        "it asks for no GPU"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert "annotations" not in ds["metadata"], "wave 0, with the other workloads"
    assert compiled("staging/agents/Service-gpu-exporter.yaml")["spec"]["ports"] == [
        {"name": "metrics", "port": 9400, "protocol": "TCP", "targetPort": "metrics"}]


def test_no_autoscaler_or_disruption_budget() -> None:
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        with pytest.raises(KeyError):
            compiled(f"staging/agents/{kind}-gpu-exporter.yaml")


def test_the_capacity_check_counts_a_pod_on_every_node_of_the_pool() -> None:
    use = capacity.usage(load(WORKLOADS))[("test-cluster", "gpu")]
    (demand,) = use.demands
    assert (demand.service, demand.pods, demand.cpu_m, demand.memory) == ("gpu-exporter", 2, 200, 256 * 2**20)


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(
        ("catalog.yaml", "      placement: {pool: gpu}\n", "      placement: {pool: gpu}\n      replicas: 2\n"),
        "environments/catalog.yaml:112: spec.services.gpu-exporter: a daemonset runs one pod on every node of its pool: "
        "remove replicas",
        id="replicas",
    ),
    pytest.param(
        ("catalog.yaml", "      placement: {pool: gpu}\n",
         "      placement: {pool: gpu}\n      autoscaling: {minReplicas: 1, maxReplicas: 2}\n"),
        "environments/catalog.yaml:112: spec.services.gpu-exporter: a daemonset runs one pod on every node of its pool: "
        "remove autoscaling",
        id="autoscaling",
    ),
    pytest.param(
        ("catalog.yaml", "      probes:\n        liveness: {http: {path: /health, port: metrics}}\n"
                         "        readiness: {http: {path: /health, port: metrics}}\n", ""),
        "environments/catalog.yaml:112: spec.services.gpu-exporter: a daemonset service runs for long: it needs "
        "probes.liveness and probes.readiness (or, when it has no health check at all, waivers: {SOPHIA-PROBE-001: <reason>})",
        id="probes",
    ),
    pytest.param(
        ("catalog.yaml", "        limits: {cpu: 500m, memory: 256Mi}\n      probes:\n        liveness: {http: {path: /health, port: metrics}}",
         "        limits: {cpu: 500m, memory: 256Mi}\n      gpu: {models: [A10]}\n      probes:\n        liveness: {http: {path: /health, port: metrics}}"),
        "environments/catalog.yaml:123: spec.services.gpu-exporter.gpu.models: asks for A10 but node pool 'gpu' has A100\n"
        "    hint: place it on a pool with one of those models, or accept the pool's model",
        id="gpu-model",
    ),
])
def test_what_a_daemonset_cannot_have_is_refused(tmp_path: Path, edit: tuple[str, str, str], expected: str) -> None:
    assert errors(tmp_path, edit) == expected


def test_one_pod_per_node_can_over_commit_the_pool(tmp_path: Path) -> None:
    requests = "        requests: {cpu: 100m, memory: 128Mi}\n        limits: {cpu: 500m, memory: 256Mi}\n      probes:\n" \
               "        liveness: {http: {path: /health, port: metrics}}"
    bigger = requests.replace("cpu: 100m", 'cpu: "17"').replace("cpu: 500m", 'cpu: "17"')
    assert errors(tmp_path, ("catalog.yaml", requests, bigger)).splitlines()[0] == (
        "environments/catalog.yaml:121: spec.services.gpu-exporter.resources.requests.cpu: pool 'gpu' of cluster "
        "'test-cluster' is over-committed in the worst case: CPU 34 > 32 cores; placed there, largest first: "
        "staging/gpu-exporter (2 pods, 34 CPU, 0.2Gi)"
    ), "a node agent's pod count is the pool's nodes: what sizes it is its request"
