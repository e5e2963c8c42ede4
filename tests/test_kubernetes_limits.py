"""Input the model accepts never compiles to a name or label the API server refuses: either the model
refuses it, saying which Kubernetes limit and why, or sophia writes a valid value (`label_value`,
`scratch_volume_names`). `test_properties` holds the property; these are its cases one by one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sophia.constructs._base import label_value
from sophia.constructs._pod import scratch_volume_names
from sophia.errors import SpecError
from sophia.model.loader import load

BASIC = Path(__file__).parent / "fixtures" / "envs" / "basic"
LONG_EGRESS = "vendor-" + "a" * 50

CASES = [
    pytest.param(
        "catalog.yaml", "{name: vendor-api,", f"{{name: {LONG_EGRESS},",
        f"environments/catalog.yaml:47: spec.services.queue-worker.egress[0].name: '{LONG_EGRESS}' is 57 characters, more "
        "than 56: sophia writes it into the annotation key sophia.ai/egress.<name>, and Kubernetes limits the part after "
        "the '/' to 63 characters",
        id="egress-name-annotation-key",
    ),
    pytest.param(
        "catalog.yaml", "        postgres: {port: 5432, scheme: postgresql}", "        post--gres: {port: 5432, scheme: postgresql}",
        "environments/catalog.yaml:54: spec.services.db.ports.post--gres: 'post--gres' holds '--': a Kubernetes port "
        "name is an IANA service name, which may not",
        id="port-name-double-hyphen",
    ),
    pytest.param(
        "catalog.yaml", "      env: {LOG_LEVEL: info}", "      env: {" + "V" * 254 + ": info}",
        f"environments/catalog.yaml:14: spec.services.api.env.{'V' * 254}: '{'V' * 254}' is 254 characters, more "
        "than 253: sophia writes it as a key of a ConfigMap or Secret, and Kubernetes limits those keys to 253",
        id="env-name-config-key",
    ),
    pytest.param(
        "catalog.yaml", "    nightly-report:\n", "    nightly-report-" + "r" * 38 + ":\n",
        f"environments/catalog.yaml:66: spec.services.nightly-report-{'r' * 38}: 'nightly-report-{'r' * 38}' is 53 "
        "characters: a cronjob service's name is at most 52\n    hint: Kubernetes names each run's Job "
        "<name>-<minutes since epoch>, and a Job's name is at most 63 characters; choose a shorter name",
        id="cronjob-name",
    ),
    pytest.param(
        "catalog.yaml", "    db:\n", "    db-" + "d" * 50 + ":\n",
        f"environments/catalog.yaml:48: spec.services.db-{'d' * 50}: 'db-{'d' * 50}' is 53 characters: a stateful "
        "service's name is at most 52\n    hint: the StatefulSet's headless Service is <name>-headless (at most 63 "
        "characters) and Kubernetes labels each pod with <name>-<revision hash> (at most 63); choose a shorter name",
        id="stateful-name",
    ),
    pytest.param(
        "staging.yaml", "  domain: staging.example.com", "  domain: " + ".".join(["d" * 62] * 4),
        "environments/catalog.yaml:27: spec.services.api.expose.host: host 'api." + ".".join(["d" * 62] * 4) + "' is 255 "
        "characters, more than the 253 of a DNS name (Ingress host)\n    hint: choose a shorter expose.host or spec.domain",
        id="exposed-host-length",
    ),
    pytest.param(
        "catalog.yaml", "      expose: {host: api}", "      expose: {host: api, path: /v1//chat}",
        "environments/catalog.yaml:27: spec.services.api.expose.path: '/v1//chat' holds '//', which Kubernetes refuses in "
        "an Ingress path",
        id="ingress-path",
    ),
    pytest.param(
        "catalog.yaml", "data: {mountPath: /var/lib/postgresql/data, size: 1Gi}", "data: {mountPath: /var/lib/postgresql/data, size: 0Gi}",
        "environments/catalog.yaml:62: spec.services.db.volumes.data.size: '0Gi': a volume claim must request more than "
        "zero bytes of storage",
        id="volume-size-zero",
    ),
    pytest.param(
        "catalog.yaml", "        requests: {cpu: 250m, memory: 512Mi}", "        requests: {cpu: 250m, memory: 2Gi}",
        "environments/catalog.yaml:55: spec.services.db.resources: requests.memory 2Gi is more than limits.memory 1Gi: "
        "Kubernetes refuses a request above its limit",
        id="requests-above-limits",
    ),
    pytest.param(
        "catalog.yaml", 'schedule: "0 3 * * *"', 'schedule: "0 24 * * *"',
        "environments/catalog.yaml:71: spec.services.nightly-report.schedule: '0 24 * * *' is not a schedule Kubernetes "
        "accepts: end of range (24) above maximum (23): 24",
        id="cron-schedule",
    ),
    pytest.param(
        "catalog.yaml", "data: {mountPath: /var/lib/postgresql/data, size: 1Gi}", "data: {mountPath: /tmp, size: 1Gi}",
        "environments/catalog.yaml:48: spec.services.db: /tmp is mounted twice (scratch and volumes.data): Kubernetes "
        "refuses a mount path used twice in one container",
        id="mount-path-twice",
    ),
    pytest.param(
        "catalog.yaml", "        data: {mountPath", "        scratch-data: {mountPath",
        "environments/catalog.yaml:48: spec.services.db: volume name 'scratch-data' is reserved: sophia names its own "
        "volumes 'secret-files' and scratch-<path>",
        id="reserved-volume-name",
    ),
    pytest.param(
        "cluster.yaml", "labels: {sophia.ai/pool: general}", "labels: {sophia..ai/pool: general}",
        "environments/cluster.yaml:8: spec.nodePools.general.labels.sophia..ai/pool: 'sophia..ai/pool' is not a "
        "valid label key",
        id="label-key-prefix",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES)
def test_the_model_refuses_what_kubernetes_would(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    path = root / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load(root)
    assert expected in info.value.render(), info.value.render()


def test_an_exposed_host_of_253_characters_loads(tmp_path: Path) -> None:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    domain = ".".join(["d" * 62, "d" * 62, "d" * 62, "d" * 60])
    staging = root / "staging.yaml"
    staging.write_text(staging.read_text().replace("staging.example.com", domain))
    assert len(f"api.{domain}") == 253
    load(root)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1.2.3", "1.2.3", id="valid-unchanged"),
        pytest.param("_1.0", "1.0-32b0950f24", id="leading-underscore"),
        pytest.param("v1-", "v1-87703ceca9", id="trailing-hyphen"),
        pytest.param("_", "d2e2adf717", id="nothing-left"),
        pytest.param("a" * 64, "a" * 52 + "-ffe054fe7a", id="too-long"),
        pytest.param("api-" + "e" * 70, "api-" + "e" * 48 + "-8fef030e5e", id="instance-of-two-long-names"),
    ],
)
def test_label_values_are_made_valid_deterministically(text: str, expected: str) -> None:
    assert label_value(text) == expected
    assert len(expected) <= 63


def test_scratch_volume_names_are_unique_labels() -> None:
    paths = ["/tmp", "/Tmp", "/a_b", "/a-b", "/données", "/", "/" + "x" * 70]
    assert scratch_volume_names(paths) == [
        "scratch-tmp", "scratch-tmp-5a8fd33d", "scratch-a-b", "scratch-a-b-590bb8f6", "scratch-donn-es", "scratch",
        "scratch-" + "x" * 55,
    ]
