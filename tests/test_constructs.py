"""Unit tests of the constructs, through the compiled fixture `tests/fixtures/envs/basic`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.pipeline import compile_tree

BASIC = Path(__file__).parent / "fixtures" / "envs" / "basic"
RECOMMENDED = {
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
    "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
}


@pytest.fixture(scope="module")
def out() -> dict[str, Any]:
    return {p: yaml.safe_load(t) for p, t in compile_tree(BASIC).items() if p.endswith(".yaml")}


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]  # type: ignore[no-any-return]
    return spec["template"]  # type: ignore[no-any-return]


WORKLOADS = [
    "staging/apps/Deployment-api.yaml",
    "staging/apps/Deployment-queue-worker.yaml",
    "staging/apps/Deployment-inference.yaml",
    "staging/apps/CronJob-nightly-report.yaml",
    "staging/data/StatefulSet-db.yaml",
]


@pytest.mark.parametrize("path", WORKLOADS)
def test_pods_are_hardened_by_default(out: dict[str, Any], path: str) -> None:
    pod = _pod(out[path])["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "scratch-tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert container["resources"]["requests"] and container["resources"]["limits"]
    if path != "staging/apps/Deployment-queue-worker.yaml":
        assert sc["readOnlyRootFilesystem"] is True


def test_named_exception_relaxes_one_service_and_shows(out: dict[str, Any]) -> None:
    worker = out["staging/apps/Deployment-queue-worker.yaml"]
    assert _pod(worker)["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
    note = "readOnlyRootFilesystem: the vendor binary writes its cache next to itself"
    assert worker["metadata"]["annotations"]["sophia.ai/security-exception"] == note
    assert _pod(worker)["metadata"]["annotations"]["sophia.ai/security-exception"] == note


def test_every_object_has_recommended_labels_and_an_explicit_name(out: dict[str, Any]) -> None:
    for path, obj in out.items():
        labels = obj["metadata"]["labels"]
        wanted = RECOMMENDED if obj["kind"] not in ("Namespace", "NetworkPolicy", "AppProject", "Application", "ClusterSecretStore", "ClusterIssuer") else RECOMMENDED - {
            "app.kubernetes.io/version", "app.kubernetes.io/instance"}
        assert wanted <= set(labels), path
        assert path.endswith(f"/{obj['kind']}-{obj['metadata']['name']}.yaml")


@pytest.mark.parametrize("path", [p for p in WORKLOADS if "CronJob" not in p])
def test_selectors_are_name_and_instance_only(out: dict[str, Any], path: str) -> None:
    obj = out[path]
    name = obj["metadata"]["name"]
    assert obj["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-staging"}}


def test_web_service_with_autoscaling(out: dict[str, Any]) -> None:
    deploy = out["staging/apps/Deployment-api.yaml"]
    assert "replicas" not in deploy["spec"], "the HPA owns replicas"
    hpa = out["staging/apps/HorizontalPodAutoscaler-api.yaml"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)
    assert out["staging/apps/PodDisruptionBudget-api.yaml"]["spec"]["maxUnavailable"] == 1
    assert out["staging/apps/Service-api.yaml"]["spec"]["ports"] == [{"name": "http", "port": 8000, "protocol": "TCP", "targetPort": "http"}]
    container = _pod(deploy)["spec"]["containers"][0]
    assert container["image"] == "example/api:1.2.3"
    assert container["startupProbe"]["failureThreshold"] == 30
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}


def test_dependency_urls_land_in_the_config_map(out: dict[str, Any]) -> None:
    data = out["staging/apps/ConfigMap-api-env.yaml"]["data"]
    assert data["DB_URL"] == "postgresql://db.staging-data.svc.cluster.local:5432"
    assert data["INFERENCE_ENDPOINT"] == "http://inference.staging-apps.svc.cluster.local:9000"
    assert data["LOG_LEVEL"] == "debug", "the environment override wins over the catalogue"
    assert data["ENVIRONMENT"] == "staging"


def test_single_replica_workloads_have_no_disruption_budget(out: dict[str, Any]) -> None:
    assert "staging/apps/PodDisruptionBudget-queue-worker.yaml" not in out
    assert "staging/apps/Service-queue-worker.yaml" not in out, "a worker without ports has no Service"


def test_stateful_service(out: dict[str, Any]) -> None:
    sts = out["staging/data/StatefulSet-db.yaml"]["spec"]
    assert sts["serviceName"] == "db-headless"
    assert sts["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert out["staging/data/Service-db-headless.yaml"]["spec"]["clusterIP"] == "None"
    assert out["staging/data/Service-db.yaml"]["spec"]["type"] == "ClusterIP"


def test_scheduled_job(out: dict[str, Any]) -> None:
    cron = out["staging/apps/CronJob-nightly-report.yaml"]["spec"]
    assert cron["schedule"] == "0 3 * * *"
    assert cron["concurrencyPolicy"] == "Forbid"
    assert _pod(out["staging/apps/CronJob-nightly-report.yaml"])["spec"]["restartPolicy"] == "OnFailure"


def test_gpu_service(out: dict[str, Any]) -> None:
    deploy = out["staging/apps/Deployment-inference.yaml"]
    pod = _pod(deploy)["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]
    assert deploy["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert pod["containers"][0]["image"].endswith("@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")


def test_non_gpu_pods_never_tolerate_the_gpu_taint(out: dict[str, Any]) -> None:
    for path in WORKLOADS:
        if "inference" not in path:
            assert "tolerations" not in _pod(out[path])["spec"], path


def test_namespace_enforces_restricted_and_denies_by_default(out: dict[str, Any]) -> None:
    ns = out["staging/apps/Namespace-staging-apps.yaml"]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    deny = out["staging/apps/NetworkPolicy-default-deny.yaml"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_argo_cd_objects(out: dict[str, Any]) -> None:
    project = out["staging/argocd/AppProject-sophia-staging.yaml"]["spec"]
    assert project["sourceRepos"] == ["https://git.example.com/platform.git"]
    assert {d["namespace"] for d in project["destinations"]} == {"argocd", "external-secrets", "staging-apps", "staging-data"}
    assert all(d["name"] == "test-cluster" for d in project["destinations"])
    assert project["clusterResourceWhitelist"] == [
        {"group": "", "kind": "Namespace"}, {"group": "external-secrets.io", "kind": "ClusterSecretStore"},
        {"group": "cert-manager.io", "kind": "ClusterIssuer"}]
    app = out["staging/argocd/Application-staging-apps.yaml"]
    assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io/foreground"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert app["spec"]["syncPolicy"]["retry"]["limit"] == 5
    assert app["spec"]["source"]["path"] == "dist/staging/apps"
    assert app["spec"]["project"] == "sophia-staging"
    root = out["staging/argocd/Application-staging-root.yaml"]
    assert root["spec"]["source"]["path"] == "dist/staging/argocd"
    data_wave = int(out["staging/argocd/Application-staging-data.yaml"]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    apps_wave = int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
    assert data_wave < apps_wave, "data services sync before the applications that use them"
