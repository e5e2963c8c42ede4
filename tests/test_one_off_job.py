"""`type: job` (`OneOffJob`): a Job hardened like every workload, run by Argo CD as a Sync hook in
wave -1 -- after its namespace and with its configuration, before the application's workloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import WORKLOADS, compile_copy, compiled, errors, pod

from sophia import capacity
from sophia.model.loader import load

JOB = "staging/apps/Job-migrate.yaml"
SETTINGS = "      job: {backoffLimit: 1, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 86400}\n"


def _wave(obj: dict[str, object]) -> int:
    return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))  # type: ignore[attr-defined]


def test_a_sync_hook_before_the_applications_workloads_after_its_configuration() -> None:
    job = compiled(JOB)
    notes = job["metadata"]["annotations"]
    assert notes["argocd.argoproj.io/hook"] == "Sync"
    assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation", "each sync replaces the last run"
    assert _wave(job) == -1
    assert _wave(compiled("staging/apps/Namespace-staging-apps.yaml")) < _wave(job)
    for before in ("ServiceAccount-migrate", "ConfigMap-migrate-env", "ExternalSecret-migrate-secrets", "NetworkPolicy-migrate"):
        assert _wave(compiled(f"staging/apps/{before}.yaml")) == _wave(job), before  # Argo CD applies them first, by kind
    for after in ("Deployment-api", "Deployment-queue-worker"):
        assert _wave(compiled(f"staging/apps/{after}.yaml")) > _wave(job), after
    waves = {a: _wave(compiled(f"staging/argocd/Application-staging-{a}.yaml")) for a in ("data", "apps")}
    assert waves["data"] < waves["apps"], "its dependency's application syncs first"


def test_a_job_needing_a_service_of_its_own_application_runs_after_the_applications_workloads(tmp_path: Path) -> None:
    """In wave -1 it would wait for a service Argo CD creates only after it: the sync could never finish."""
    out = compile_copy(tmp_path, ("catalog.yaml", "      application: apps\n      component: migration\n",
                                  "      application: data\n      component: migration\n"))
    job = out["staging/data/Job-migrate.yaml"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "Sync"
    assert _wave(job) == 1
    assert _wave(out["staging/data/StatefulSet-db.yaml"]) == 0 < _wave(job)
    assert _wave(out["staging/data/ServiceAccount-migrate.yaml"]) == -1


def test_the_job_runs_once_hardened_with_its_settings() -> None:
    spec = compiled(JOB)["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (1, 600, 86400)
    assert "selector" not in spec and "parallelism" not in spec and "completions" not in spec
    template = pod(compiled(JOB))["spec"]
    assert template["restartPolicy"] == "OnFailure"
    assert template["securityContext"]["runAsNonRoot"] is True
    (main,) = template["containers"]
    assert main["command"] == ["/app/migrate", "up"]
    assert main["env"] == [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "DB_PASSWORD", "name": "migrate-secrets"}}}]
    assert "livenessProbe" not in main, "a job needs no probes"
    assert [c["name"] for c in template["initContainers"]] == ["copy-migrations"]
    assert compiled("staging/apps/ConfigMap-migrate-env.yaml")["data"]["DB_URL"] == "postgresql://db.staging-data.svc.cluster.local:5432"
    egress = compiled("staging/apps/NetworkPolicy-migrate.yaml")["spec"]["egress"]
    assert egress[0]["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "staging-data"}
    for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        with pytest.raises(KeyError):
            compiled(f"staging/apps/{kind}-migrate.yaml")


def test_the_defaults_of_a_job(tmp_path: Path) -> None:
    spec = compile_copy(tmp_path, ("catalog.yaml", SETTINGS, ""))[JOB]["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (2, 3600)
    assert "ttlSecondsAfterFinished" not in spec, "without it the Job stays, with its logs, until the next sync"


def test_the_capacity_check_counts_one_pod() -> None:
    (demand,) = [d for d in capacity.usage(load(WORKLOADS))[("test-cluster", "general")].demands if d.service == "migrate"]
    assert (demand.pods, demand.cpu_m) == (1, 100)


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(
        ("catalog.yaml", SETTINGS, SETTINGS + "      replicas: 2\n"),
        "environments/catalog.yaml:69: spec.services.migrate: a job runs one pod to completion: remove replicas",
        id="replicas",
    ),
    pytest.param(
        ("catalog.yaml", SETTINGS, SETTINGS + "      ports:\n        http: {port: 8080}\n"),
        "environments/catalog.yaml:69: spec.services.migrate: a job runs one pod to completion: remove ports",
        id="ports",
    ),
    pytest.param(
        ("catalog.yaml", SETTINGS, SETTINGS + "      waivers: {SOPHIA-PROBE-001: the migration has no health check}\n"),
        "environments/catalog.yaml:69: spec.services.migrate: a job needs no probes: remove the SOPHIA-PROBE-001 waiver",
        id="probe-waiver",
    ),
    pytest.param(
        ("catalog.yaml", "      terminationGracePeriodSeconds: 60\n", "      terminationGracePeriodSeconds: 60\n      job: {}\n"),
        "environments/catalog.yaml:91: spec.services.db: job settings are only for type: job, not stateful",
        id="settings-elsewhere",
    ),
    pytest.param(
        ("catalog.yaml", SETTINGS, "      job: {backoffLimit: -1}\n"),
        "environments/catalog.yaml:90: spec.services.migrate.job.backoffLimit: Input should be greater than or equal to 0",
        id="negative-backoff",
    ),
    pytest.param(
        ("catalog.yaml", "      dependencies: [{service: db}]\n    migrate:\n",
         "      dependencies: [{service: db}, {service: migrate}]\n    migrate:\n"),
        "environments/catalog.yaml:68: spec.services.queue-worker.dependencies[1].service: service 'migrate' has no ports, "
        "so nothing can connect to it",
        id="depended-on",
    ),
])
def test_what_a_job_cannot_have_is_refused(tmp_path: Path, edit: tuple[str, str, str], expected: str) -> None:
    assert errors(tmp_path, edit) == expected
