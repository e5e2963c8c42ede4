"""Init containers and sidecars: pinned, hardened exactly like the main container, unique in the pod,
and counted by the capacity check as Kubernetes reserves them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import compile_copy, compiled, errors, pod

from sophia.capacity import pod_request
from sophia.model.models import ServiceSpec

API = "staging/apps/Deployment-api.yaml"


def test_init_containers_run_first_then_the_sidecars_start_as_native_sidecars() -> None:
    spec = pod(compiled(API))["spec"]
    init, sidecar = spec["initContainers"]
    assert (init["name"], sidecar["name"]) == ("render-config", "log-shipper")
    assert "restartPolicy" not in init, "an init container runs to completion"
    assert sidecar["restartPolicy"] == "Always", "a native sidecar: starts before the main container, stops after it"
    assert [c["name"] for c in spec["containers"]] == ["api"]


def test_every_container_is_hardened_like_the_main_one() -> None:
    spec = pod(compiled(API))["spec"]
    (main,) = spec["containers"]
    for container in spec["initContainers"]:
        assert container["securityContext"] == main["securityContext"], container["name"]
        assert container["volumeMounts"] == main["volumeMounts"] == [{"mountPath": "/tmp", "name": "scratch-tmp"}]
        assert container["imagePullPolicy"] == "Always"
        assert container["resources"]["requests"] and container["resources"]["limits"]


def test_named_relaxations_apply_to_every_container(tmp_path: Path) -> None:
    out = compile_copy(tmp_path, ("staging.yaml", "  services:\n", "  exceptions:\n"
                                  "    - {service: api, relax: [readOnlyRootFilesystem], reason: the renderer writes beside itself}\n"
                                  "  services:\n"))
    spec = pod(out[API])["spec"]
    for container in [*spec["containers"], *spec["initContainers"]]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is False, container["name"]
        assert container["securityContext"]["runAsUser"] == 10001


def test_a_sidecar_has_its_image_env_ports_and_probes() -> None:
    sidecar = pod(compiled(API))["spec"]["initContainers"][1]
    assert sidecar["image"] == "fluent/fluent-bit:3.2.4@sha256:" + "1" * 64
    assert sidecar["env"] == [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "FLUENT_LEVEL", "value": "info"},
    ], "$(POD_IP) in its args defines POD_IP, as for the main container"
    assert sidecar["ports"] == [{"containerPort": 2020, "name": "metrics", "protocol": "TCP"}]
    assert sidecar["livenessProbe"]["httpGet"] == {"path": "/api/v1/health", "port": "metrics"}
    assert sidecar["readinessProbe"]["tcpSocket"] == {"port": "metrics"}
    assert "envFrom" not in sidecar, "the service's ConfigMap is the main container's"
    service = compiled("staging/apps/Service-api.yaml")["spec"]["ports"]
    assert [p["name"] for p in service] == ["http"], "a sidecar's ports stay inside the pod"


IMAGE = "          image: {repository: fluent/fluent-bit, tag: \"3.2.4\", digest: \"sha256:" + "1" * 64 + "\"}\n"
SIDECAR_NAME = "        - name: log-shipper\n"


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(
        ("catalog.yaml", IMAGE, "          image: {repository: fluent/fluent-bit, tag: latest}\n"),
        "environments/catalog.yaml:35: spec.services.api.sidecars[0].image: image tag 'latest' is not a version: pin a "
        "version tag or a digest",
        id="latest",
    ),
    pytest.param(
        ("catalog.yaml", IMAGE, "          image: {repository: fluent/fluent-bit}\n"),
        "environments/catalog.yaml:35: spec.services.api.sidecars[0].image: the image is not pinned: give a tag or a digest",
        id="unpinned",
    ),
    pytest.param(
        ("catalog.yaml", SIDECAR_NAME, "        - name: render-config\n"),
        "environments/catalog.yaml:9: spec.services.api: container name 'render-config' is used twice in the pod "
        "(initContainers[0] and sidecars[0]): Kubernetes refuses it",
        id="name-twice",
    ),
    pytest.param(
        ("catalog.yaml", SIDECAR_NAME, "        - name: api\n"),
        "environments/catalog.yaml:34: spec.services.api.sidecars[0].name: container name 'api' is the main container's "
        "(named like the service): Kubernetes refuses two containers of one name in a pod\n    hint: rename the container",
        id="main-container-name",
    ),
    pytest.param(
        ("catalog.yaml", "            metrics: {port: 2020}\n", "            http: {port: 2020}\n"),
        "environments/catalog.yaml:34: spec.services.api.sidecars[0]: probes.liveness uses port 'metrics', which is not "
        "one of the sidecar's ports",
        id="probe-port",
    ),
    pytest.param(
        ("catalog.yaml", "            liveness: {http: {path: /api/v1/health, port: metrics}}\n            readiness: {tcp: {port: metrics}}\n",
         "            liveness: {http: {path: /api/v1/health, port: http}}\n"),
        "environments/catalog.yaml:34: spec.services.api.sidecars[0]: probes.liveness uses port 'http', which is not one "
        "of the sidecar's ports",
        id="probe-on-the-main-containers-port",
    ),
    pytest.param(
        ("catalog.yaml", "            metrics: {port: 2020}\n", "            metrics: {port: 2020}\n            http: {port: 2021}\n"),
        "environments/catalog.yaml:9: spec.services.api: port name 'http' is used twice in the pod (ports.http and "
        "sidecars[0].ports.http): a named port must name one port",
        id="port-name-twice",
    ),
    pytest.param(
        ("catalog.yaml", "            metrics: {port: 2020}\n", "            metrics: {port: 8000}\n"),
        "environments/catalog.yaml:9: spec.services.api: port 8000/TCP is used twice in the pod (ports.http and "
        "sidecars[0].ports.metrics): the containers of a pod share one network",
        id="port-number-twice",
    ),
    pytest.param(
        ("catalog.yaml", "          env: {TEMPLATE: api}\n", "          env: {TEMPLATE: api}\n          probes: {}\n"),
        "environments/catalog.yaml:30: spec.services.api.initContainers[0].probes: unknown field 'probes'\n"
        "    hint: known fields: args, command, env, image, name, resources",
        id="probes-on-an-init-container",
    ),
])
def test_bad_containers_are_refused_with_the_reason(tmp_path: Path, edit: tuple[str, str, str], expected: str) -> None:
    assert errors(tmp_path, edit) == expected


def _spec(main: str, sidecars: list[str], init: list[str]) -> ServiceSpec:
    def container(name: str, cpu: str) -> dict[str, object]:
        return {"name": name, "image": {"repository": "x", "tag": "1"},
                "resources": {"requests": {"cpu": cpu, "memory": cpu.replace("m", "Mi")},
                              "limits": {"cpu": "4", "memory": "4Gi"}}}

    return ServiceSpec.model_validate({
        "type": "worker", "application": "a", "image": {"repository": "x"}, "placement": {"pool": "p"},
        "waivers": {"SOPHIA-PROBE-001": "a test service, never run"},
        "resources": {"requests": {"cpu": main, "memory": main.replace("m", "Mi")}, "limits": {"cpu": "4", "memory": "4Gi"}},
        "sidecars": [container(f"s{i}", c) for i, c in enumerate(sidecars)],
        "initContainers": [container(f"i{i}", c) for i, c in enumerate(init)],
    })


@pytest.mark.parametrize(("main", "sidecars", "init", "cpu"), [
    pytest.param("250m", [], [], 250, id="main-only"),
    pytest.param("250m", ["50m", "100m"], [], 400, id="sidecars-add-up"),
    pytest.param("250m", ["50m"], ["500m", "200m"], 500, id="largest-init-wins"),
    pytest.param("250m", ["50m"], ["200m", "300m"], 300, id="the-others-win"),
])
def test_a_pod_requests_the_larger_of_its_largest_init_container_and_the_sum_of_the_others(
    main: str, sidecars: list[str], init: list[str], cpu: int
) -> None:
    assert pod_request(_spec(main, sidecars, init)) == (cpu, cpu * 2**20)


def test_the_capacity_check_counts_init_containers_and_sidecars(tmp_path: Path) -> None:
    big = "          resources:\n            requests: {cpu: 500m, memory: 64Mi}\n            limits: {cpu: 500m, memory: 64Mi}\n"
    assert errors(tmp_path, ("catalog.yaml", big, big.replace("500m", "\"7\"")),) == (
        "environments/catalog.yaml:22: spec.services.api.autoscaling.maxReplicas: pool 'general' of cluster "
        "'test-cluster' is over-committed in the worst case: CPU 35.55 > 24 cores; placed there, largest first: "
        "staging/api (5 pods, 35 CPU, 1.4Gi), staging/db (1 pods, 0.25 CPU, 0.5Gi), staging/queue-worker (2 pods, 0.2 CPU, "
        "0.2Gi), staging/migrate (1 pods, 0.1 CPU, 0.1Gi)\n"
        "    hint: lower replicas or maxReplicas, move services to another pool, or add nodes to the pool"
    )
