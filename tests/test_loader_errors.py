"""Bad input: every problem listed at once as `file:line: field.path: message`, with a hint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CLI_TIMEOUT, REPO, SOPHIA, run_sophia

from sophia.errors import SpecError
from sophia.model.loader import load

BASIC = Path(__file__).parent / "fixtures" / "envs" / "basic"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    return root


def _edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def _errors(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load(root)
    return info.value.render()


CASES = [
    pytest.param(
        "catalog.yaml", "      replicas: 1\n", "      replicas: one\n",
        "environments/catalog.yaml:43: spec.services.queue-worker.replicas: Input should be a valid integer",
        id="string-for-number",
    ),
    pytest.param(
        "catalog.yaml", "      component: worker\n", "      component: 12\n",
        "environments/catalog.yaml:35: spec.services.queue-worker.component: Input should be a valid string",
        id="number-for-string",
    ),
    pytest.param(
        "catalog.yaml", "      replicas: 1\n", "      replica: 1\n",
        "environments/catalog.yaml:43: spec.services.queue-worker.replica: unknown field 'replica'\n"
        "    hint: did you mean 'replicas'?",
        id="misspelled-service-field",
    ),
    pytest.param(
        "catalog.yaml", "        readiness: {http: {path: /ready, port: http}}",
        "        readiness: {http: {path: /ready, port: http}, periodSecond: 5}",
        "environments/catalog.yaml:21: spec.services.api.probes.readiness.periodSecond: unknown field 'periodSecond'\n"
        "    hint: did you mean 'periodSeconds'?",
        id="misspelled-nested-field",
    ),
    pytest.param(
        "staging.yaml", "  release: stable\n", "  release: stable\n  relase: stable\n",
        "environments/staging.yaml:7: spec.relase: unknown field 'relase'\n    hint: did you mean 'release'?",
        id="misspelled-environment-field",
    ),
    pytest.param(
        "catalog.yaml", "    queue-worker:\n", "    Queue_Worker:\n",
        "environments/catalog.yaml:32: spec.services.Queue_Worker: 'Queue_Worker' is not a valid name",
        id="invalid-k8s-name",
    ),
    pytest.param(
        "catalog.yaml", "      component: worker\n", '      component: "worker\\n"\n',
        "environments/catalog.yaml:35: spec.services.queue-worker.component: 'worker\\n' is not a valid name",
        id="name-with-trailing-newline",
    ),
    pytest.param(
        "catalog.yaml", "      replicas: 1\n", "      replicas: 1\n      replicas: 2\n",
        "environments/catalog.yaml:44: spec.services.queue-worker.replicas: duplicate key 'replicas'",
        id="duplicate-key",
    ),
    pytest.param(
        "catalog.yaml", "      dependencies: [{service: db}]\n      egress:", "      dependencies: [{service: dbb}]\n      egress:",
        "environments/catalog.yaml:45: spec.services.queue-worker.dependencies[0].service: dependency 'dbb' is not defined\n"
        "    hint: did you mean 'db'?",
        id="undefined-dependency",
    ),
    pytest.param(
        "catalog.yaml", "        - {service: db}\n", "        - {service: db, port: http}\n",
        "environments/catalog.yaml:25: spec.services.api.dependencies[0].port: service 'db' has no port 'http'\n"
        "    hint: its ports: postgres",
        id="undefined-port",
    ),
    pytest.param(
        "staging.yaml", "  cluster: test-cluster\n", "  cluster: prod-cluster\n",
        "environments/staging.yaml:7: spec.cluster: cluster 'prod-cluster' is not defined\n    hint: defined clusters: test-cluster",
        id="undefined-cluster",
    ),
    pytest.param(
        "staging.yaml", "  release: stable\n", "  release: beta\n",
        "environments/staging.yaml:6: spec.release: release 'beta' is not defined\n    hint: defined releases: stable",
        id="undefined-release",
    ),
    pytest.param(
        "staging.yaml", "    api:\n      env: {LOG_LEVEL: debug}\n", "    api:\n      placement: {pool: genral}\n",
        "environments/staging.yaml:21: spec.services.api.placement.pool: node pool 'genral' is not defined in cluster "
        "'test-cluster'\n    hint: did you mean 'general'?",
        id="undefined-pool",
    ),
    pytest.param(
        "staging.yaml", "    api:\n", "    apii:\n",
        "environments/staging.yaml:20: spec.services.apii: service 'apii' is not in the catalogue\n    hint: did you mean 'api'?",
        id="undefined-override",
    ),
    pytest.param(
        "staging.yaml", "    api:\n      env: {LOG_LEVEL: debug}\n", "    api:\n      env: {UPSTREAM: 'http://10.0.3.7:9000'}\n",
        "environments/staging.yaml:21: spec.services.api.env.UPSTREAM: 'http://10.0.3.7:9000' holds an IP address; "
        "address machines by node labels and services by declared dependencies",
        id="ip-literal",
    ),
    pytest.param(
        "releases/stable.yaml", '    api: {tag: "1.2.3"}\n', "    api: {tag: latest}\n",
        "environments/releases/stable.yaml:7: spec.images.api: api: image tag 'latest' is not a version\n"
        "    hint: pin a version in the release: images.api.tag (or .digest); 'latest' is never accepted",
        id="latest-tag",
    ),
    pytest.param(
        "releases/stable.yaml", '    api: {tag: "1.2.3"}\n', "",
        "environments/releases/stable.yaml:6: spec.images.api: api: the image has no tag or digest\n"
        "    hint: pin a version in the release: images.api.tag (or .digest); 'latest' is never accepted",
        id="missing-tag",
    ),
    pytest.param(
        "catalog.yaml", "      dependencies: [{service: db}]\n      egress:",
        "      dependencies: [{service: db, format: host, path: /x}]\n      egress:",
        "environments/catalog.yaml:45: spec.services.queue-worker.dependencies[0]: path only applies to format: url, not host",
        id="path-on-host-dependency",
    ),
    pytest.param(
        "catalog.yaml", "      dependencies: [{service: db}]\n      egress:",
        "      dependencies: [{service: db}, {service: db, scheme: postgres}]\n      egress:",
        "environments/catalog.yaml:45: spec.services.queue-worker.dependencies[1].env: DB_URL is set twice: by this "
        "dependency and by dependencies[0]\n    hint: give this dependency its own variable with env: <NAME>",
        id="dependency-variable-twice",
    ),
    pytest.param(
        "catalog.yaml", "        DB_PASSWORD: {key: db.password}\n", "        DB_PASSWORD: {key: db.password}\n        DB_URL: {key: db.url}\n",
        "environments/catalog.yaml:25: spec.services.api.dependencies[0].env: DB_URL is set twice: by this dependency and "
        "by secrets.DB_URL",
        id="secret-and-dependency-variable",
    ),
    pytest.param(
        "catalog.yaml", "        readiness: {exec: [/bin/healthcheck]}\n      replicas: 1\n",
        "        readiness: {exec: [/bin/healthcheck]}\n      waivers: {SOPHIA-PROBE-001: no health check in this image}\n      replicas: 1\n",
        "environments/catalog.yaml:32: spec.services.queue-worker: probes are set, so the SOPHIA-PROBE-001 waiver is not needed",
        id="waiver-with-probes",
    ),
    pytest.param(
        "catalog.yaml", "      replicas: 1\n      placement: {pool: general}\n      dependencies: [{service: db}]\n",
        "      replicas: 1\n      waivers: {SOPHIA-SEC-001: because I said so}\n      placement: {pool: general}\n"
        "      dependencies: [{service: db}]\n",
        "environments/catalog.yaml:44: spec.services.queue-worker.waivers.SOPHIA-SEC-001: Input should be 'SOPHIA-PROBE-001', "
        "'SOPHIA-RES-001', 'SOPHIA-PSS-001', 'SOPHIA-PSS-002', 'SOPHIA-PSS-003', 'SOPHIA-PSS-004', 'SOPHIA-PSS-005', "
        "'SOPHIA-PSS-006', 'SOPHIA-PSS-007', 'SOPHIA-PSS-008' or 'SOPHIA-PSS-009'",
        id="waiver-of-unwaivable-rule",
    ),
    pytest.param(
        "catalog.yaml", "      replicas: 1\n      placement: {pool: general}\n      dependencies: [{service: db}]\n",
        "      replicas: 1\n      args: [serve, --bind, $(POD_IP)]\n      env: {POD_IP: here}\n"
        "      placement: {pool: general}\n      dependencies: [{service: db}]\n",
        "environments/catalog.yaml:45: spec.services.queue-worker.env.POD_IP: POD_IP is the pod's address, which sophia "
        "sets because the command uses $(POD_IP)",
        id="pod-ip-defined-twice",
    ),
    pytest.param(
        "staging.yaml", "    api:\n      env: {LOG_LEVEL: debug}\n", "    api:\n      env: {ENVIRONMENT: prod}\n",
        "environments/staging.yaml:21: spec.services.api.env.ENVIRONMENT: ENVIRONMENT is set by sophia to the "
        "environment's name\n    hint: remove it from env",
        id="environment-variable-is-reserved",
    ),
    pytest.param(
        "staging.yaml", "kind: Environment\n", "kind: Enviroment\n",
        "environments/staging.yaml:2: kind: unknown kind 'Enviroment'\n    hint: one of: Cluster, Environment, Release, ServiceCatalog",
        id="unknown-kind",
    ),
    pytest.param(
        "staging.yaml", "  source:", "  source: [\n  nope:",
        "environments/staging.yaml:10: YAML syntax error: ",
        id="yaml-syntax",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES)
def test_error_message(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    _edit(root, file, old, new)
    rendered = _errors(root)
    assert expected in rendered, rendered
    assert "Traceback" not in rendered


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root, "catalog.yaml", "      replicas: 1\n", "      replicas: -1\n")
    _edit(root, "staging.yaml", "  release: stable\n", "  release: beta\n")
    _edit(root, "cluster.yaml", "  nodePools:\n", "  nodePool:\n")
    rendered = _errors(root)
    assert "catalog.yaml:43: spec.services.queue-worker.replicas: Input should be greater than or equal to 0" in rendered
    assert "staging.yaml:6: spec.release: release 'beta' is not defined" in rendered
    assert "cluster.yaml:6: spec.nodePool: unknown field 'nodePool'" in rendered
    assert rendered.endswith("\nerror: 5 problem(s) found")  # loading alone writes nothing: no output folder to name


@pytest.mark.parametrize("command", ["synth", "check", "cdk8s-app"])
def test_the_footer_names_the_output_folder_left_alone(tmp_path: Path, command: str) -> None:
    """`--out` elsewhere (or main.py run from another folder): the footer names that folder, not dist/."""
    root = _copy(tmp_path)
    _edit(root, "catalog.yaml", "      replicas: 1\n", "      replicas: -1\n")
    if command == "cdk8s-app":  # the app `cdk8s synth` runs: environments/ and dist/ beside main.py
        project = tmp_path / "project"
        project.mkdir()
        shutil.copy(REPO / "main.py", project)
        root.rename(project / "environments")
        out, shown = project / "dist", "project/dist"
        run = subprocess.run([str(SOPHIA.parent / "python"), "project/main.py"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    else:
        out = tmp_path / "elsewhere"
        if command == "check":
            out.mkdir()
        shown = str(out)
        run = run_sophia(command, "--environments", str(root), "--out", str(out), cwd=tmp_path)
    assert run.returncode == (2 if command == "check" else 1), run.stderr
    *_, problem, footer = run.stderr.splitlines()
    assert problem.endswith("catalog.yaml:43: spec.services.queue-worker.replicas: Input should be greater than or equal to 0")
    assert footer == f"error: 1 problem(s) found; {shown}/ was not changed"
    assert out.exists() == (command == "check")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "environments/extra.yaml:1: the file is empty", id="empty"),
        pytest.param(b"- a\n- b\n", "environments/extra.yaml:1: the top level must be a mapping, not a list", id="list-root"),
        pytest.param(b"\xff\xfe\x00garbage", "environments/extra.yaml:1: not UTF-8 text (byte 0: 0xff)", id="not-utf8"),
        pytest.param(b"a: 1\x00\x01\x02", "environments/extra.yaml:1: binary content (a NUL byte) in a YAML file", id="binary"),
        pytest.param(b"apiVersion: v1\nkind: Environment\n", "environments/extra.yaml:1: apiVersion: apiVersion must be 'sophia.ai/v1alpha1'",
                     id="wrong-api-version"),
    ],
)
def test_file_level_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    root = _copy(tmp_path)
    (root / "extra.yaml").write_bytes(content)
    assert expected in _errors(root)


def test_duplicate_service_definition_across_environments_files(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shutil.copy(root / "staging.yaml", root / "staging-copy.yaml")
    assert "environments/staging.yaml:4: metadata.name: Environment 'staging' is defined twice (also in environments/staging-copy.yaml)" in _errors(
        root
    ) or "environments/staging-copy.yaml:4: metadata.name: Environment 'staging' is defined twice" in _errors(root)


def test_the_fixture_itself_loads() -> None:
    platform = load(BASIC)
    assert sorted(platform.environments["staging"].services) == ["api", "db", "inference", "nightly-report", "queue-worker"]


@pytest.mark.parametrize(("branch", "expected"), [
    ("main", "spec.promotion.branch: deploy branch 'main' is already followed by environment 'development'"),
    ("deploy/../main", "spec.promotion.branch: String should match pattern"),
])
def test_a_promoted_environment_needs_a_deploy_branch_of_its_own(tmp_path: Path, branch: str, expected: str) -> None:
    root = tmp_path / "environments"
    shutil.copytree(REPO / "environments", root)
    _edit(root, "production.yaml", "    from: development\n", f"    from: development\n    branch: {branch}\n")
    line = (root / "production.yaml").read_text().splitlines().index(f"    branch: {branch}") + 1
    rendered = _errors(root)
    assert f"environments/production.yaml:{line}: {expected}" in rendered, rendered
