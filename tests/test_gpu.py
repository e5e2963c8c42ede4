"""GPU placement, the compile-time capacity check, and the cluster add-ons."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.errors import SpecError
from sophia.pipeline import compile_tree

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"
GPU_SERVICE = """\
    {name}:
      type: web
      application: apps
      image: {{repository: example/{name}, tag: "1.0"}}
      ports:
        http: {{port: 9000}}
      resources:
        requests: {{cpu: 500m, memory: 1Gi}}
        limits: {{cpu: "1", memory: 2Gi}}
      probes:
        liveness: {{http: {{path: /health, port: http}}}}
        readiness: {{http: {{path: /health, port: http}}}}
      replicas: {replicas}
      placement: {{pool: {pool}}}
      gpu: {gpu}
"""


def _platform(tmp_path: Path, services: str = "", cluster_edit: tuple[str, str] | None = None) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text() + services)
    if cluster_edit:
        cluster = root / "cluster.yaml"
        cluster.write_text(cluster.read_text().replace(*cluster_edit))
    return root


def _compile_error(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        compile_tree(root)
    return info.value.render()


GH200_POOL = (
    "    gpu:\n",
    "    ai-core:\n      labels: {sophia.ai/pool: ai-core}\n"
    "      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]\n"
    "      capacity: {cpu: \"60\", memory: 400Gi}\n      gpu: {model: GH200, count: 1, memoryGiB: 96}\n"
    "      generalWorkloads: false\n    gpu:\n",
)


def test_the_corpus_over_commit_eight_services_on_one_gh200(tmp_path: Path) -> None:
    """deployment/docker-compose-ai-core.yml asked the one GH200 for eight GPU services, fourteen replicas."""
    replicas = {"ai-memory-v2": 2, "snowflake-cortex": 2, "snowflake-cortex-enhanced": 2, "huggingface-ai": 2,
                "prompt-optimizer": 2, "gong-v2": 2, "perplexity-v2": 1, "vector-db": 1}
    services = "".join(GPU_SERVICE.format(name=n, replicas=r, pool="ai-core", gpu="{models: [GH200], count: 1}")
                       for n, r in replicas.items())
    rendered = _compile_error(_platform(tmp_path, services, GH200_POOL))
    assert (
        "cluster test-cluster: nodePools.ai-core: pool 'ai-core' is over-committed in the worst case: GPUs 14 > 1; "
        "placed there: staging/ai-memory-v2 (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/gong-v2 (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/huggingface-ai (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/prompt-optimizer (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/snowflake-cortex (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/snowflake-cortex-enhanced (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/perplexity-v2 (1 pods, 1 GPU, 0.5 CPU, 1.0Gi), staging/vector-db (1 pods, 1 GPU, 0.5 CPU, 1.0Gi)\n"
        "    hint: lower replicas or maxReplicas, move services to another pool, or add nodes to the pool"
    ) in rendered


@pytest.mark.parametrize(
    ("services", "cluster_edit", "expected"),
    [
        pytest.param(GPU_SERVICE.format(name="trainer", replicas=1, pool="gpu", gpu="{models: [A100]}"), None,
                     "pool 'gpu' is over-committed in the worst case: GPUs 2 > 1", id="second-gpu-service"),
        pytest.param(GPU_SERVICE.format(name="trainer", replicas=1, pool="gpu", gpu="{models: [A100], count: 2}"), None,
                     "spec.services.trainer.gpu.count: asks for 2 GPUs per pod but a node of pool 'gpu' has 1", id="gpus-per-node"),
        pytest.param("", ('capacity: {cpu: "8", memory: 32Gi}', 'capacity: {cpu: "2", memory: 32Gi}'),
                     "pool 'general' is over-committed in the worst case: CPU 2.55 > 2 cores", id="cpu"),
        pytest.param("", ('capacity: {cpu: "8", memory: 32Gi}', 'capacity: {cpu: "8", memory: 2Gi}'),
                     "pool 'general' is over-committed in the worst case: memory 2.9Gi > 2.0Gi", id="memory"),
    ],
)
def test_over_commit(tmp_path: Path, services: str, cluster_edit: tuple[str, str] | None, expected: str) -> None:
    assert expected in _compile_error(_platform(tmp_path, services, cluster_edit))


@pytest.mark.parametrize(
    ("gpu", "pool", "expected"),
    [
        pytest.param("{models: [A100], count: 0.25}", "gpu",
                     "spec.services.frac.gpu.count: 0.25 GPUs: nvidia.com/gpu only takes whole GPUs", id="fractional"),
        pytest.param("{models: [RTX4090]}", "gpu", "spec.services.frac.gpu.models[0]: Input should be 'GH200', 'A100', 'A6000', 'A10' or 'RTX6000'",
                     id="unknown-model"),
        pytest.param("{models: [GH200]}", "gpu", "spec.services.frac.gpu.models: asks for GH200 but node pool 'gpu' has A100", id="wrong-pool"),
    ],
)
def test_bad_gpu_asks(tmp_path: Path, gpu: str, pool: str, expected: str) -> None:
    services = GPU_SERVICE.format(name="frac", replicas=1, pool=pool, gpu=gpu)
    assert expected in _compile_error(_platform(tmp_path, services))


def test_non_gpu_service_on_a_gpu_only_pool_is_an_error(tmp_path: Path) -> None:
    root = _platform(tmp_path)
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("      replicas: 1\n      placement: {pool: general}", "      replicas: 1\n      placement: {pool: gpu}"))
    assert ("spec.services.queue-worker.placement.pool: node pool 'gpu' is reserved for GPU workloads and 'queue-worker' asks for no GPU"
            in _compile_error(root))


def _real() -> dict[str, Any]:
    return {p.relative_to(ROOT / "dist").as_posix(): yaml.safe_load(p.read_text()) for p in (ROOT / "dist").rglob("*.yaml")}


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return template["spec"] if isinstance(template, dict) else None


def test_every_gpu_pod_in_dist_is_placed_and_only_gpu_pods_tolerate_the_taint() -> None:
    gpu_pods = 0
    for path, obj in _real().items():
        pod = _pod_spec(obj)
        if pod is None:
            continue
        gpus = [c["resources"]["limits"].get("nvidia.com/gpu") for c in pod["containers"]]
        if any(gpus):
            gpu_pods += 1
            assert all(isinstance(g, int) for g in gpus if g), path
            assert pod["runtimeClassName"] == "nvidia", path
            assert any(t["key"] == "nvidia.com/gpu" for t in pod.get("tolerations", [])) or "development" in path, path
            terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            assert terms[0]["matchExpressions"][0]["key"] == "sophia.ai/pool", path
        else:
            assert not any(t["key"] == "nvidia.com/gpu" for t in pod.get("tolerations", [])), path
            assert "runtimeClassName" not in pod, path
    assert gpu_pods == 2


def test_placement_per_gpu_model() -> None:
    real = _real()
    prod = _pod_spec(real["production/mcp/Deployment-ai-memory.yaml"])
    dev = _pod_spec(real["development/mcp/Deployment-ai-memory.yaml"])
    assert prod and dev
    values = lambda pod: pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][  # noqa: E731
        "nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
    assert values(prod) == ["ai-core"], "GH200"
    assert prod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]
    assert values(dev) == ["development"], "A10, untainted"
    assert "tolerations" not in dev
    assert real["production/mcp/Deployment-ai-memory.yaml"]["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert real["clusters/sophia-k3s/runtime/RuntimeClass-nvidia.yaml"]["handler"] == "nvidia"


def test_addons_are_pinned_helm_applications_in_the_lowest_waves() -> None:
    real = _real()
    addons = {p: o for p, o in real.items() if p.startswith("clusters/sophia-k3s/argocd/Application-addon-")}
    assert {o["spec"]["source"]["chart"] for o in addons.values()} == {"argo-cd", "cert-manager", "external-secrets", "nvidia-device-plugin"}
    env_waves = [int(o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                 for p, o in real.items() if o["kind"] == "Application" and not p.startswith("clusters/")]
    for path, app in addons.items():
        version = app["spec"]["source"]["targetRevision"]
        assert version[0].isdigit() or version.startswith("v"), path
        assert "*" not in version and "x" not in version, path
        assert int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < min(env_waves)
    argocd = addons["clusters/sophia-k3s/argocd/Application-addon-argo-cd.yaml"]
    assert "resource.customizations.health.argoproj.io_Application" in argocd["spec"]["source"]["helm"]["values"]


@pytest.mark.skipif(not os.environ.get("SOPHIA_CRD_SCHEMAS"), reason="SOPHIA_CRD_SCHEMAS is not set (the CRD catalog)")
def test_addon_applications_are_valid_against_the_argo_cd_schema() -> None:
    from conftest import known_defect

    from sophia.validate import validate_paths

    report = validate_paths([ROOT / "dist/clusters"])
    assert not [f for f in report.errors if not known_defect(f)] and len(report.resources) >= 7, report.summary()
