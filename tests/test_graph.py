"""The service graph: addresses, network policies and sync order from declared dependencies."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.errors import SpecError
from sophia.model.loader import load
from sophia.pipeline import compile_tree
from sophia.values import IPV4

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"


@pytest.fixture(scope="module")
def basic() -> dict[str, Any]:
    return {p: yaml.safe_load(t) for p, t in compile_tree(BASIC).items() if p.endswith(".yaml")}


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    return root


@pytest.mark.parametrize(
    ("config_map", "var", "url"),
    [
        pytest.param("apps/ConfigMap-api-env", "DB_URL", "postgresql://db.staging-data.svc.cluster.local:5432", id="default-name-scheme"),
        pytest.param("apps/ConfigMap-api-env", "INFERENCE_ENDPOINT", "http://inference.staging-apps.svc.cluster.local:9000",
                     id="declared-name"),
        pytest.param("apps/ConfigMap-queue-worker-env", "DB_URL", "postgresql://db.staging-data.svc.cluster.local:5432",
                     id="cross-namespace"),
        pytest.param("apps/ConfigMap-api-env", "LLM_GATEWAY_URL", "http://llm-gateway.staging-apps.svc.cluster.local:8080/v1",
                     id="llm-gateway"),
    ],
)
def test_derived_urls(basic: dict[str, Any], config_map: str, var: str, url: str) -> None:
    assert basic[f"staging/{config_map}.yaml"]["data"][var] == url


def _edges(policy: dict[str, Any], direction: str) -> set[tuple[str, str, int]]:
    out = set()
    side = "from" if direction == "ingress" else "to"
    for rule in policy["spec"].get(direction, []):
        for peer in rule[side]:
            if "ipBlock" in peer:
                name = "internet"
                ns = peer["ipBlock"]["cidr"]
            else:
                ns = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                name = peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for port in rule["ports"]:
                out.add((ns, name, port["port"]))
    return out


@pytest.mark.parametrize(
    ("policy", "ingress", "egress"),
    [
        pytest.param("apps/NetworkPolicy-api", {("kube-system", "traefik", 8000)},
                     {("staging-data", "db", 5432), ("staging-apps", "inference", 9000), ("staging-apps", "llm-gateway", 8080)},
                     id="api: exposed, three dependencies"),
        pytest.param("data/NetworkPolicy-db",
                     {("staging-apps", "api", 5432), ("staging-apps", "queue-worker", 5432), ("staging-apps", "nightly-report", 5432)},
                     set(), id="db: only its dependants, no egress"),
        pytest.param("apps/NetworkPolicy-inference", {("staging-apps", "api", 9000)}, set(), id="inference"),
        pytest.param("apps/NetworkPolicy-queue-worker", set(),
                     {("staging-data", "db", 5432), ("0.0.0.0/0", "internet", 443), ("0.0.0.0/0", "internet", 8443)},
                     id="worker: declared internet egress"),
        pytest.param("apps/NetworkPolicy-llm-gateway", {("staging-apps", "api", 8080)}, {("0.0.0.0/0", "internet", 443)},
                     id="gateway"),
    ],
)
def test_policies_allow_exactly_the_declared_edges(
    basic: dict[str, Any], policy: str, ingress: set[tuple[str, str, int]], egress: set[tuple[str, str, int]]
) -> None:
    obj = basic[f"staging/{policy}.yaml"]
    assert _edges(obj, "ingress") == ingress
    assert _edges(obj, "egress") == egress


def test_internet_egress_excludes_private_ranges_and_carries_its_reason(basic: dict[str, Any]) -> None:
    policy = basic["staging/apps/NetworkPolicy-queue-worker.yaml"]
    assert policy["metadata"]["annotations"]["sophia.ai/egress.vendor-api"] == "pushes jobs to the vendor queue"
    block = policy["spec"]["egress"][-1]["to"][0]["ipBlock"]
    assert "10.0.0.0/8" in block["except"] and block["cidr"] == "0.0.0.0/0"


def test_every_namespace_denies_by_default_and_allows_dns(basic: dict[str, Any]) -> None:
    namespaces = {o["metadata"]["name"] for o in basic.values() if o["kind"] == "Namespace"}
    for ns in namespaces:
        policies = {o["metadata"]["name"]: o for o in basic.values()
                    if o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == ns}
        assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        assert policies["allow-dns"]["spec"]["egress"][0]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def test_exposure(basic: dict[str, Any]) -> None:
    ingress = basic["staging/apps/Ingress-api.yaml"]
    assert ingress["spec"]["rules"][0]["host"] == "api.staging.example.com"
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-staging"
    issuer = basic["staging/platform/ClusterIssuer-letsencrypt-staging.yaml"]["spec"]["acme"]
    assert issuer["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert "staging/apps/NetworkPolicy-allow-acme-solver.yaml" in basic
    assert "staging/data/NetworkPolicy-allow-acme-solver.yaml" not in basic


def _error(tmp_path: Path, file: str, old: str, new: str) -> str:
    root = _copy(tmp_path)
    path = root / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        compile_tree(root)
    return info.value.render()


def test_cycle_is_an_error_naming_the_cycle(tmp_path: Path) -> None:
    rendered = _error(tmp_path, "catalog.yaml", "      placement: {pool: gpu}\n      gpu:",
                      "      placement: {pool: gpu}\n      dependencies: [{service: api}]\n      gpu:")
    assert "spec.services.inference.dependencies: dependency cycle: api -> inference -> api" in rendered
    assert "hint: services cannot wait for each other to start; remove one of these dependencies" in rendered


@pytest.mark.parametrize(
    ("value", "host"),
    [
        pytest.param("redis://db:5432", "db", id="service-url"),
        pytest.param("redis-cluster.sophia-ai:6379", "redis-cluster.sophia-ai", id="n8n-redis-cluster"),
        pytest.param("http://db.staging-data.svc.cluster.local:5432", "db.staging-data.svc.cluster.local", id="svc-name"),
    ],
)
def test_cluster_host_in_a_plain_env_value_is_flagged(tmp_path: Path, value: str, host: str) -> None:
    rendered = _error(tmp_path, "catalog.yaml", "      env: {LOG_LEVEL: info}", f"      env: {{LOG_LEVEL: info, UPSTREAM: '{value}'}}")
    assert f"spec.services.api.env.UPSTREAM: UPSTREAM holds the cluster address {host!r} as a plain value" in rendered


def test_public_hosts_are_not_flagged(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    catalog = root / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("      env: {LOG_LEVEL: info}",
                                                   "      env: {LOG_LEVEL: info, DOCS: 'https://redis.io/docs', GONG: 'https://api.gong.io'}"))
    load(root)


def _real() -> dict[str, Any]:
    return {p.relative_to(ROOT / "dist").as_posix(): yaml.safe_load(p.read_text()) for p in (ROOT / "dist").rglob("*.yaml")}


def _wave(obj: dict[str, Any]) -> int:
    return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


def test_wave_order_of_the_real_platform() -> None:
    real = _real()
    for env in ("production", "development"):
        apps = {o["metadata"]["name"].removeprefix(f"{env}-"): _wave(o) for p, o in real.items()
                if p.startswith(f"{env}/argocd/Application-") and not p.endswith("-root.yaml")}
        assert apps["platform"] < apps["data"] < apps["mcp"] < apps["core"] < apps["web"], apps
        assert apps["platform"] < apps["llm"] < apps["mcp"], apps
        for path, obj in real.items():
            if not path.startswith(f"{env}/") or "/argocd/" in path:
                continue
            if obj["kind"] in ("Namespace",):
                assert _wave(obj) == -2
            if obj["kind"] in ("ServiceAccount", "ConfigMap", "ExternalSecret", "NetworkPolicy"):
                assert _wave(obj) == -1, path
            if obj["kind"] in ("Deployment", "StatefulSet", "CronJob"):
                assert _wave(obj) == 0, path


def test_every_in_cluster_address_in_dist_comes_from_a_dependency() -> None:
    real = _real()
    for path, obj in real.items():
        if obj["kind"] != "ConfigMap" or not obj["metadata"]["name"].endswith("-env"):
            continue
        for var, value in obj["data"].items():
            if ".svc." in value:
                # a dependency's url (with its optional path), host or host-port format
                assert re.fullmatch(r"([a-z]+://)?[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local(:[0-9]+(/[a-z0-9/]*)?)?", value), (path, var)


def test_no_host_ip_in_environments_or_dist() -> None:
    for folder in ("environments", "dist"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file():
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                for match in IPV4.finditer(line):
                    rest = line[match.end():]
                    assert rest.startswith("/"), f"{path}:{lineno}: {match.group(0)} is a host address, not a network range"


def _compile_edited(tmp_path: Path, old: str, new: str) -> dict[str, Any]:
    root = _copy(tmp_path)
    catalog = root / "catalog.yaml"
    text = catalog.read_text()
    assert old in text
    catalog.write_text(text.replace(old, new, 1))
    return {p: yaml.safe_load(t) for p, t in compile_tree(root).items() if p.endswith(".yaml")}


def test_dependency_formats_scheme_and_path(tmp_path: Path) -> None:
    out = _compile_edited(
        tmp_path, "      dependencies: [{service: db}]\n      egress:",
        "      dependencies:\n"
        "        - {service: db}\n"
        "        - {service: db, format: host, env: DB_HOST}\n"
        "        - {service: db, format: port, env: DB_PORT}\n"
        "        - {service: db, format: host-port}\n"
        "        - {service: inference, scheme: ws, path: /stream, env: STREAM_URL}\n"
        "      egress:",
    )
    data = out["staging/apps/ConfigMap-queue-worker-env.yaml"]["data"]
    host = "db.staging-data.svc.cluster.local"
    assert data["DB_URL"] == f"postgresql://{host}:5432"
    assert data["DB_HOST"] == host
    assert data["DB_PORT"] == "5432"
    assert data["DB_ADDRESS"] == f"{host}:5432"
    assert data["STREAM_URL"] == "ws://inference.staging-apps.svc.cluster.local:9000/stream"
    # Several dependencies on one service open its port once.
    policy = out["staging/apps/NetworkPolicy-queue-worker.yaml"]
    assert sorted(_edges(policy, "egress")) == sorted(set(_edges(policy, "egress")))
    assert ("staging-data", "db", 5432) in _edges(policy, "egress")
    assert ("staging-apps", "inference", 9000) in _edges(policy, "egress")


def test_probe_waiver_and_pod_ip(tmp_path: Path) -> None:
    from sophia.validate.policy import run_policy

    out = _compile_edited(
        tmp_path,
        "      probes:\n        liveness: {exec: [/bin/healthcheck]}\n        readiness: {exec: [/bin/healthcheck]}\n"
        "      replicas: 1\n",
        "      waivers: {SOPHIA-PROBE-001: the vendor image has no health endpoint}\n"
        "      args: [serve, '--bind=$(POD_IP)']\n"
        "      replicas: 1\n",
    )
    path = "staging/apps/Deployment-queue-worker.yaml"
    deployment = out[path]
    assert deployment["metadata"]["annotations"]["sophia.ai/waive.SOPHIA-PROBE-001"] == "the vendor image has no health endpoint"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "livenessProbe" not in container and "readinessProbe" not in container
    assert container["args"] == ["serve", "--bind=$(POD_IP)"]
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in container["env"]
    written = tmp_path / "Deployment-queue-worker.yaml"
    written.write_text(yaml.safe_dump(deployment))
    report = run_policy([written])
    probe = [f for f in report.findings if f.rule == "SOPHIA-PROBE-001"]
    assert probe and all(f.waived == "the vendor image has no health endpoint" for f in probe)
    assert not [f for f in report.errors if f.rule == "SOPHIA-PROBE-001"]


def test_waivable_rules_are_policy_rules() -> None:
    from typing import get_args

    from sophia.model.models import WAIVER_ANNOTATION_PREFIX, WaivableRule
    from sophia.validate.policy import WAIVER_PREFIX, all_rules

    assert WAIVER_ANNOTATION_PREFIX == WAIVER_PREFIX
    assert set(get_args(WaivableRule)) <= {r.id for r in all_rules()}
