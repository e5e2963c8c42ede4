"""lifecycle.preStop (a command, or Kubernetes' sleep action) and terminationGracePeriodSeconds, which
must leave time to shut down after the pause."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import compile_copy, compiled, errors, pod

SLEEP = "        preStop: {sleepSeconds: 10}\n"
GRACE = "      terminationGracePeriodSeconds: 45\n"


@pytest.mark.parametrize(("path", "pre_stop", "grace"), [
    pytest.param("staging/apps/Deployment-api.yaml", {"sleep": {"seconds": 10}}, 45, id="sleep"),
    pytest.param("staging/apps/Deployment-queue-worker.yaml", {"exec": {"command": ["/bin/drain", "--wait"]}}, None,
                 id="exec-kubernetes-grace"),
    pytest.param("staging/data/StatefulSet-db.yaml", {"exec": {"command": ["pg_ctl", "stop", "-m", "fast"]}}, 60,
                 id="stateful"),
])
def test_the_main_container_gets_its_pre_stop_and_the_pod_its_grace(path: str, pre_stop: dict[str, object], grace: int | None) -> None:
    spec = pod(compiled(path))["spec"]
    (main,) = spec["containers"]
    assert main["lifecycle"] == {"preStop": pre_stop}
    assert spec.get("terminationGracePeriodSeconds") == grace
    assert all("lifecycle" not in c for c in spec.get("initContainers", [])), "init containers take no lifecycle"


def test_without_lifecycle_nothing_is_written(tmp_path: Path) -> None:
    out = compile_copy(tmp_path, ("catalog.yaml", "      lifecycle:\n        preStop: {exec: [/bin/drain, --wait]}\n", ""))
    spec = pod(out["staging/apps/Deployment-queue-worker.yaml"])["spec"]
    assert "lifecycle" not in spec["containers"][0]
    assert "terminationGracePeriodSeconds" not in spec


@pytest.mark.parametrize(("edits", "expected"), [
    pytest.param(
        [("catalog.yaml", GRACE, "      terminationGracePeriodSeconds: 10\n")],
        "environments/catalog.yaml:9: spec.services.api: lifecycle.preStop.sleepSeconds 10 leaves no time to shut down: "
        "terminationGracePeriodSeconds 10 must exceed it, as the kubelet kills the container when the grace period ends, "
        "preStop included; raise terminationGracePeriodSeconds or shorten the sleep",
        id="grace-equal-to-sleep",
    ),
    pytest.param(
        [("catalog.yaml", GRACE, ""), ("catalog.yaml", SLEEP, "        preStop: {sleepSeconds: 30}\n")],
        "environments/catalog.yaml:9: spec.services.api: lifecycle.preStop.sleepSeconds 30 leaves no time to shut down: "
        "the grace period (30 seconds, Kubernetes' default) must exceed it, as the kubelet kills the container when the "
        "grace period ends, preStop included; raise terminationGracePeriodSeconds or shorten the sleep",
        id="sleep-of-the-default-grace",
    ),
    pytest.param(
        [("catalog.yaml", SLEEP, "        preStop: {sleepSeconds: 10, exec: [/bin/drain]}\n")],
        "environments/catalog.yaml:47: spec.services.api.lifecycle.preStop: preStop takes exactly one of exec or sleepSeconds",
        id="both",
    ),
    pytest.param(
        [("catalog.yaml", SLEEP, "        preStop: {}\n")],
        "environments/catalog.yaml:47: spec.services.api.lifecycle.preStop: preStop takes exactly one of exec or sleepSeconds",
        id="neither",
    ),
    pytest.param(
        [("catalog.yaml", SLEEP, "        preStop: {sleepSeconds: 0}\n")],
        "environments/catalog.yaml:47: spec.services.api.lifecycle.preStop.sleepSeconds: Input should be greater than 0",
        id="zero-sleep",
    ),
])
def test_a_grace_period_that_the_pause_uses_up_is_refused(tmp_path: Path, edits: list[tuple[str, str, str]], expected: str) -> None:
    assert errors(tmp_path, *edits) == expected
