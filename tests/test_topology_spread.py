"""topologySpread: replicas spread over the nodes of the service's pool, by its own selector, only
while more than one pod runs or it autoscales; an environment may change it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import compile_copy, compiled, errors, pod

SELECTOR = {"matchLabels": {"app.kubernetes.io/instance": "api-staging", "app.kubernetes.io/name": "api"}}
WORKER = "staging/apps/Deployment-queue-worker.yaml"


def test_an_autoscaled_service_spreads_with_the_environments_setting_over_the_catalogues() -> None:
    spec = pod(compiled("staging/apps/Deployment-api.yaml"))["spec"]
    assert spec["topologySpreadConstraints"] == [{
        "topologyKey": "kubernetes.io/hostname",
        "maxSkew": 1,  # the catalogue's
        "whenUnsatisfiable": "ScheduleAnyway",  # staging.yaml's, over the catalogue's DoNotSchedule
        "labelSelector": SELECTOR,
    }]
    assert spec["affinity"]["nodeAffinity"], "the pool's node affinity limits the nodes that count"


def test_one_replica_does_not_spread_and_more_do(tmp_path: Path) -> None:
    assert "topologySpreadConstraints" not in pod(compiled(WORKER))["spec"], "replicas: 1 and no autoscaling"
    out = compile_copy(tmp_path, ("staging.yaml", "  services:\n", "  services:\n    queue-worker: {replicas: 3}\n"))
    assert pod(out[WORKER])["spec"]["topologySpreadConstraints"] == [{
        "topologyKey": "kubernetes.io/hostname", "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": "queue-worker-staging",
                                          "app.kubernetes.io/name": "queue-worker"}},
    }]


def test_a_stateful_service_spreads_too(tmp_path: Path) -> None:
    out = compile_copy(tmp_path, ("catalog.yaml", "      terminationGracePeriodSeconds: 60\n",
                                  "      terminationGracePeriodSeconds: 60\n      replicas: 3\n      topologySpread: {maxSkew: 2}\n"))
    (constraint,) = pod(out["staging/data/StatefulSet-db.yaml"])["spec"]["topologySpreadConstraints"]
    assert (constraint["maxSkew"], constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/name"]) == (2, "db")


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(
        ("catalog.yaml", "      placement: {pool: gpu}\n", "      placement: {pool: gpu}\n      topologySpread: {}\n"),
        "environments/catalog.yaml:112: spec.services.gpu-exporter: a daemonset runs one pod on every node of its pool: "
        "remove topologySpread",
        id="daemonset",
    ),
    pytest.param(
        ("catalog.yaml", "      job: {backoffLimit: 1", "      topologySpread: {}\n      job: {backoffLimit: 1"),
        "environments/catalog.yaml:69: spec.services.migrate: a job runs one pod to completion: remove topologySpread",
        id="job",
    ),
    pytest.param(
        ("staging.yaml", "      topologySpread: {whenUnsatisfiable: ScheduleAnyway}\n",
         "      topologySpread: {whenUnsatisfiable: Sometimes}\n"),
        "environments/staging.yaml:13: spec.services.api.topologySpread.whenUnsatisfiable: Input should be "
        "'ScheduleAnyway' or 'DoNotSchedule'",
        id="unknown-policy",
    ),
    pytest.param(
        ("staging.yaml", "      topologySpread: {whenUnsatisfiable: ScheduleAnyway}\n", "      topologySpread: {maxSkew: 0}\n"),
        "environments/staging.yaml:13: spec.services.api.topologySpread.maxSkew: Input should be greater than 0",
        id="no-skew",
    ),
])
def test_spread_where_it_cannot_apply_is_refused(tmp_path: Path, edit: tuple[str, str, str], expected: str) -> None:
    assert errors(tmp_path, edit) == expected


def test_a_cronjob_cannot_spread() -> None:
    from pydantic import ValidationError

    from sophia.model.models import ServiceSpec

    with pytest.raises(ValidationError, match="a cronjob runs one pod to completion: remove topologySpread"):
        ServiceSpec.model_validate({
            "type": "cronjob", "application": "a", "image": {"repository": "x"}, "placement": {"pool": "p"},
            "schedule": "@daily", "topologySpread": {},
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        })
