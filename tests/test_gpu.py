"""GPU placement, the compile-time capacity check, and the cluster add-ons."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import needs_crds, pinned_crds

from sophia.errors import SpecError
from sophia.model.loader import load
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


def _platform(tmp_path: Path, services: str = "", cluster_edit: tuple[str, str] | None = None,
              env_edit: tuple[str, str] | None = None) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text() + services)
    for file, edit in (("cluster.yaml", cluster_edit), ("staging.yaml", env_edit)):
        if edit:
            text = (root / file).read_text()
            assert edit[0] in text, edit
            (root / file).write_text(text.replace(*edit, 1))
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
        "environments/catalog.yaml:104: spec.services.ai-memory-v2.replicas: "
        "pool 'ai-core' of cluster 'test-cluster' is over-committed in the worst case: GPUs 14 > 1; "
        "placed there, largest first: staging/ai-memory-v2 (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/gong-v2 (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/huggingface-ai (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/prompt-optimizer (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/snowflake-cortex (2 pods, 2 GPU, 1 CPU, 2.0Gi), staging/snowflake-cortex-enhanced (2 pods, 2 GPU, 1 CPU, 2.0Gi), "
        "staging/perplexity-v2 (1 pods, 1 GPU, 0.5 CPU, 1.0Gi), staging/vector-db (1 pods, 1 GPU, 0.5 CPU, 1.0Gi)\n"
        "    hint: lower replicas or maxReplicas, move services to another pool, or add nodes to the pool"
    ) in rendered


API_CPU = ("    api:\n      env: {LOG_LEVEL: debug}\n", "    api:\n      env: {LOG_LEVEL: debug}\n"
           "      resources:\n        requests: {cpu: 900m, memory: 128Mi}\n        limits: {cpu: 900m, memory: 256Mi}\n")
OTHERS = ("staging/llm-gateway (5 pods, 1.5 CPU, 1.4Gi), staging/db (1 pods, 0.25 CPU, 0.5Gi), "
          "staging/queue-worker (2 pods, 0.2 CPU, 0.2Gi), staging/nightly-report (1 pods, 0.1 CPU, 0.1Gi)")
OVER = "pool {pool!r} of cluster 'test-cluster' is over-committed in the worst case: {over}; placed there, largest first: {who}"


@pytest.mark.parametrize(
    ("services", "cluster_edit", "env_edit", "expected"),
    [
        # one pod each: the GPU request of the largest (ties: more CPU first)
        pytest.param(GPU_SERVICE.format(name="trainer", replicas=1, pool="gpu", gpu="{models: [A100]}"), None, None,
                     "environments/catalog.yaml:91: spec.services.inference.gpu.count: " + OVER.format(
                         pool="gpu", over="GPUs 2 > 1",
                         who="staging/inference (1 pods, 1 GPU, 1 CPU, 2.0Gi), staging/trainer (1 pods, 1 GPU, 0.5 CPU, 1.0Gi)"),
                     id="second-gpu-service"),
        # the environment overrides gpu.models only: the count still comes from the catalogue
        pytest.param(GPU_SERVICE.format(name="trainer", replicas=1, pool="gpu", gpu="{models: [A100]}"), None,
                     ("  services:\n", "  services:\n    inference:\n      gpu: {models: [A100]}\n"),
                     "environments/catalog.yaml:91: spec.services.inference.gpu.count: " + OVER.format(
                         pool="gpu", over="GPUs 2 > 1",
                         who="staging/inference (1 pods, 1 GPU, 1 CPU, 2.0Gi), staging/trainer (1 pods, 1 GPU, 0.5 CPU, 1.0Gi)"),
                     id="gpu-count-from-catalogue"),
        # replicas set in the environment file
        pytest.param("", None, ("  services:\n", "  services:\n    inference: {replicas: 2}\n"),
                     "environments/staging.yaml:20: spec.services.inference.replicas: " + OVER.format(
                         pool="gpu", over="GPUs 2 > 1", who="staging/inference (2 pods, 2 GPU, 2 CPU, 4.0Gi)"),
                     id="gpu-replicas-in-environment"),
        pytest.param(GPU_SERVICE.format(name="trainer", replicas=1, pool="gpu", gpu="{models: [A100], count: 2}"), None, None,
                     "environments/catalog.yaml:106: spec.services.trainer.gpu.count: asks for 2 GPUs per pod but a node of "
                     "pool 'gpu' has 1", id="gpus-per-node"),
        # autoscaling maxReplicas: in the environment file, else in the catalogue (the environment overrides resources only)
        pytest.param("", None, (API_CPU[0], API_CPU[0] + "      autoscaling: {minReplicas: 2, maxReplicas: 60}\n"),
                     "environments/staging.yaml:22: spec.services.api.autoscaling.maxReplicas: " + OVER.format(
                         pool="general", over="CPU 9.55 > 8 cores", who="staging/api (75 pods, 7.5 CPU, 9.4Gi), " + OTHERS),
                     id="max-replicas-in-environment"),
        pytest.param("", ('capacity: {cpu: "8", memory: 32Gi}', 'capacity: {cpu: "3", memory: 32Gi}'), API_CPU,
                     "environments/catalog.yaml:22: spec.services.api.autoscaling.maxReplicas: " + OVER.format(
                         pool="general", over="CPU 6.55 > 3 cores", who="staging/api (5 pods, 4.5 CPU, 0.6Gi), " + OTHERS),
                     id="max-replicas-in-catalogue"),
        # the LLM gateway's maxReplicas (a default, so the line of llmGateway)
        pytest.param("", ('capacity: {cpu: "8", memory: 32Gi}', 'capacity: {cpu: "2", memory: 32Gi}'), None,
                     "environments/staging.yaml:13: spec.llmGateway.autoscaling.maxReplicas: " + OVER.format(
                         pool="general", over="CPU 2.55 > 2 cores",
                         who="staging/llm-gateway (5 pods, 1.5 CPU, 1.4Gi), staging/api (5 pods, 0.5 CPU, 0.6Gi), "
                             "staging/db (1 pods, 0.25 CPU, 0.5Gi), staging/queue-worker (2 pods, 0.2 CPU, 0.2Gi), "
                             "staging/nightly-report (1 pods, 0.1 CPU, 0.1Gi)"),
                     id="cpu-gateway"),
        # one pod (a CronJob): its request of what overflows
        pytest.param("", ('capacity: {cpu: "8", memory: 32Gi}', 'capacity: {cpu: "8", memory: 2Gi}'),
                     ("  services:\n", "  services:\n    nightly-report:\n      resources:\n"
                      "        requests: {cpu: 100m, memory: 3Gi}\n        limits: {cpu: 100m, memory: 3Gi}\n"),
                     "environments/staging.yaml:22: spec.services.nightly-report.resources.requests.memory: " + OVER.format(
                         pool="general", over="memory 5.8Gi > 2.0Gi",
                         who="staging/nightly-report (1 pods, 0.1 CPU, 3.0Gi), staging/llm-gateway (5 pods, 1.5 CPU, 1.4Gi), "
                             "staging/api (5 pods, 0.5 CPU, 0.6Gi), staging/db (1 pods, 0.25 CPU, 0.5Gi), "
                             "staging/queue-worker (2 pods, 0.2 CPU, 0.2Gi)"),
                     id="memory-one-pod"),
    ],
)
def test_over_commit(tmp_path: Path, services: str, cluster_edit: tuple[str, str] | None, env_edit: tuple[str, str] | None,
                     expected: str) -> None:
    """The exact error: the file and line of what sizes the largest demand on the pool, and the pool."""
    with pytest.raises(SpecError) as info:
        compile_tree(_platform(tmp_path, services, cluster_edit, env_edit))
    hint = "a pod's GPUs must all be on one node" if "per pod" in expected else (
        "lower replicas or maxReplicas, move services to another pool, or add nodes to the pool")
    assert f"{expected}\n    hint: {hint}" in [p.render() for p in info.value.problems], info.value.render()


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


def test_every_pod_in_dist_fits_the_taints_and_gpus_of_its_pool() -> None:
    """Each environment's pods, against the pool their node affinity selects in that environment's cluster:
    they tolerate exactly the pool's NoSchedule/NoExecute taints, and GPU pods ask for whole GPUs of the
    pool's model, no more than a node has, under the nvidia runtime."""
    platform = load(ROOT / "environments")
    gpu_pods = 0
    for path, obj in sorted(_real().items()):
        pod = _pod_spec(obj)
        if pod is None:
            continue
        env = platform.environments[path.split("/")[0]]
        (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        selected = {e["key"]: e["values"] for e in term["matchExpressions"] if e["operator"] == "In"}
        pools = [name for name, pool in env.cluster.spec.node_pools.items()
                 if all(pool.labels.get(key) in values for key, values in selected.items())]
        assert len(pools) == 1 and "sophia.ai/pool" in selected, (path, selected, pools)
        pool = env.cluster.spec.node_pools[pools[0]]
        taints = {(t.key, t.value, t.effect) for t in pool.taints if t.effect != "PreferNoSchedule"}
        tolerated = {(t["key"], t.get("value", ""), t["effect"]) for t in pod.get("tolerations", [])}
        assert tolerated == taints, (path, pools[0])
        gpus = [c["resources"].get("limits", {}).get("nvidia.com/gpu", 0) for c in pod["containers"]]
        if any(gpus):
            gpu_pods += 1
            assert all(isinstance(g, int) for g in gpus), path
            assert pool.gpu is not None and sum(gpus) <= pool.gpu.count, (path, pools[0])
            service = env.services[obj["metadata"]["labels"]["app.kubernetes.io/name"]]
            assert service.spec.gpu is not None and pool.gpu.model in service.spec.gpu.models, (path, pools[0])
            assert pod["runtimeClassName"] == "nvidia", path
        else:
            assert pool.general_workloads, (path, pools[0])
            assert "runtimeClassName" not in pod, path
    assert gpu_pods == 2, "ai-memory in each environment"


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


def test_addons_are_pinned_applications_in_the_lowest_waves() -> None:
    real = _real()
    addons = {p: o for p, o in real.items() if p.startswith("clusters/sophia-k3s/argocd/Application-addon-")}
    assert {o["metadata"]["name"] for o in addons.values()} == {
        "addon-argo-cd", "addon-cert-manager", "addon-external-secrets", "addon-nvidia-device-plugin",
        "addon-prometheus-operator-crds", "addon-kube-prometheus-stack", "addon-loki", "addon-alloy", "addon-dcgm-exporter"}
    env_waves = [int(o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
                 for p, o in real.items() if o["kind"] == "Application" and not p.startswith("clusters/")]
    for path, app in addons.items():
        version = app["spec"]["source"]["targetRevision"]
        assert version[0].isdigit() or version.startswith("v"), path
        assert "*" not in version and "x" not in version, path
        assert int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) < min(env_waves)
    argocd = addons["clusters/sophia-k3s/argocd/Application-addon-argo-cd.yaml"]
    assert argocd["spec"]["source"]["targetRevision"] == "v3.5.1", "Argo CD's own manifests at the release tag"
    [patch] = [p for p in argocd["spec"]["source"]["kustomize"]["patches"] if p.get("target", {}).get("name") == "argocd-cm"]
    assert "resource.customizations.health.argoproj.io_Application" in patch["patch"]


@needs_crds
def test_addon_applications_are_valid_against_the_argo_cd_schema() -> None:
    from sophia.validate import validate_paths

    report = validate_paths([ROOT / "dist/clusters"], pinned_crds())
    assert report.ok and len(report.resources) >= 7, report.summary()
