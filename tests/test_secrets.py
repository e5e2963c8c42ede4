"""Secrets come from Pulumi ESC through External Secrets; only the LLM gateway holds provider keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import needs_crds, pinned_crds

from sophia.errors import SpecError
from sophia.model.loader import load
from sophia.pipeline import compile_tree
from sophia.values import LLM_PROVIDER_KEY, is_sensitive, secret_problem

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"
PROVIDER_KEY_VARS = {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GROQ_API_KEY"}


def _dist() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in (ROOT / "dist").rglob("*.yaml"):
        out[path.relative_to(ROOT / "dist").as_posix()] = yaml.safe_load(path.read_text())
    return out


def _pod(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return template.get("spec") if isinstance(template, dict) else None


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod(obj)
    return [*pod.get("initContainers", []), *pod["containers"]] if pod else []


def _plain_values(objects: dict[str, Any]) -> Iterator[tuple[str, str | None, str, str, set[str]]]:
    """(where, ConfigMap, name, value, the secrets of that pod) for every plain value a workload reads.

    Plain values are each container's `env[].value` and the data of the ConfigMaps the pod reads:
    whole (`envFrom`), by key (`configMapKeyRef`) or as files (`configMap` volumes). A pod's secrets
    are the keys of the ExternalSecrets that fill the Secrets it reads.
    """
    by_name = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects.values()}
    for path, obj in sorted(objects.items()):
        pod = _pod(obj)
        if pod is None:
            continue
        namespace = obj["metadata"]["namespace"]
        plain: list[tuple[str, str | None, str, str]] = []
        secret_names: set[str] = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        reads = [(f"{path} volume {v['name']}", v["configMap"]["name"], None) for v in pod.get("volumes", []) if "configMap" in v]
        for c in _containers(obj):
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    reads.append((f"{path} envFrom", source["configMapRef"]["name"], None))
                if "secretRef" in source:
                    secret_names.add(source["secretRef"]["name"])
            for e in c.get("env", []):
                ref = e.get("valueFrom", {})
                if "value" in e:
                    plain.append((f"{path} env {e['name']}", None, e["name"], e["value"]))
                elif "configMapKeyRef" in ref:
                    reads.append((f"{path} env {e['name']}", ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]))
                elif "secretKeyRef" in ref:
                    secret_names.add(ref["secretKeyRef"]["name"])
        for where, name, key in reads:
            config_map = by_name.get(("ConfigMap", namespace, name))
            assert config_map is not None, f"{where} reads ConfigMap {name}, which is not in the output"
            data: dict[str, str] = config_map.get("data", {})
            plain.extend((where, f"{namespace}/{name}", k, v) for k, v in data.items() if key in (None, k))
        secrets = {
            d["secretKey"]
            for o in objects.values()
            if o["kind"] == "ExternalSecret" and o["metadata"]["namespace"] == namespace
            and o["spec"]["target"]["name"] in secret_names
            for d in o["spec"].get("data", [])
        }
        for where, config_map, name, value in plain:
            yield where, config_map, name, value, secrets


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    return root


LEAKS = [
    pytest.param("      env: {LOG_LEVEL: info}\n", "      env: {LOG_LEVEL: info, DB_PASSWORD: s3cr3t-Pa55-word-x}\n",
                 "catalog.yaml:14: spec.services.api.env.DB_PASSWORD: secret literal:", id="password-literal"),
    pytest.param("      env: {LOG_LEVEL: info}\n", "      env: {LOG_LEVEL: info, API_TOKEN: ghp_0123456789abcdefghijABCDEFGHIJ012345}\n",
                 "catalog.yaml:14: spec.services.api.env.API_TOKEN: secret literal:", id="token-format"),
    pytest.param("      env: {LOG_LEVEL: info}\n", "      env: {LOG_LEVEL: info, POSTGRES_PASSWORD: changeme}\n",
                 'catalog.yaml:14: spec.services.api.env.POSTGRES_PASSWORD: secret literal: "POSTGRES_PASSWORD" holds the weak default',
                 id="weak-default-changeme"),
    pytest.param("      env: {LOG_LEVEL: info}\n", "      env: {LOG_LEVEL: info, DB_PASS: sophia_password}\n",
                 'catalog.yaml:14: spec.services.api.env.DB_PASS: secret literal: "DB_PASS" holds the weak default "sophia_password"',
                 id="weak-default-sophia"),
    pytest.param("      env: {LOG_LEVEL: info}\n", "      env: {LOG_LEVEL: info, SECRET_KEY: '${SECRET_KEY}'}\n",
                 'catalog.yaml:14: spec.services.api.env.SECRET_KEY: secret literal: "SECRET_KEY" holds the placeholder "${SECRET_KEY}"',
                 id="placeholder"),
    pytest.param("      secrets:\n        DB_PASSWORD: {key: db.password}\n",
                 "      secrets:\n        DB_PASSWORD: {key: db.password}\n        OPENAI_API_KEY: {key: openai.api_key}\n",
                 "catalog.yaml:31: spec.services.api.secrets.OPENAI_API_KEY: LLM provider key OPENAI_API_KEY outside the LLM gateway\n"
                 "    hint: only the gateway holds provider keys: drop the secret and set `callsLlm: true`",
                 id="provider-key-outside-gateway"),
    pytest.param("      secrets:\n        DB_PASSWORD: {key: db.password}\n",
                 "      secrets:\n        DB_PASSWORD: {key: db.password}\n        ROUTER: {key: llm.openrouter.api_key}\n",
                 "spec.services.api.secrets.ROUTER: LLM provider key ROUTER outside the LLM gateway", id="provider-esc-path"),
    pytest.param("      secrets:\n        DB_PASSWORD: {key: db.password}\n",
                 "      secrets:\n        DB_PASSWORD: {key: db/password}\n",
                 "catalog.yaml:30: spec.services.api.secrets.DB_PASSWORD.key: String should match pattern", id="esc-path-syntax"),
]


@pytest.mark.parametrize(("old", "new", "expected"), LEAKS)
def test_leaks_in_environment_files_are_errors(tmp_path: Path, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    text = (root / "catalog.yaml").read_text()
    assert old in text
    (root / "catalog.yaml").write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load(root)
    assert expected in info.value.render(), info.value.render()


def test_secrets_need_an_esc_environment(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    staging = root / "staging.yaml"
    text = staging.read_text()
    staging.write_text(text.replace("  esc: {organization: example-org, environment: platform-staging}\n", ""))
    with pytest.raises(SpecError) as info:
        load(root)
    assert "api reads secrets but the environment names no ESC environment" in info.value.render()
    assert "the LLM gateway reads provider keys from ESC: set spec.esc" in info.value.render()


def test_calls_llm_needs_a_gateway(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    staging = root / "staging.yaml"
    text = staging.read_text()
    start = text.index("  llmGateway:")
    end = text.index("  services:")
    staging.write_text(text[:start] + text[end:])
    with pytest.raises(SpecError) as info:
        load(root)
    assert "spec.services.api.callsLlm: callsLlm is set but the environment has no llmGateway" in info.value.render()


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        pytest.param("{strategy: single, targets: [{provider: openai}, {provider: groq}]}", "strategy single takes exactly one target", id="single"),
        pytest.param("{strategy: fallback, targets: [{provider: openai}]}", "strategy fallback needs at least two targets", id="fallback"),
        pytest.param("{strategy: loadbalance, targets: [{provider: openai, weight: 0.5}, {provider: groq}]}",
                     "strategy loadbalance needs a weight on every target", id="loadbalance"),
        pytest.param("{strategy: single, targets: [{provider: cohere-x}]}", "Input should be 'openrouter'", id="unknown-provider"),
    ],
)
def test_routing_is_validated(tmp_path: Path, routing: str, message: str) -> None:
    root = _copy(tmp_path)
    staging = root / "staging.yaml"
    text = staging.read_text()
    start = text.index("    routing:")
    end = text.index("  services:")
    staging.write_text(text[:start] + f"    routing: {routing}\n" + text[end:])
    with pytest.raises(SpecError) as info:
        load(root)
    assert message in info.value.render()


def test_service_secrets_become_external_secrets() -> None:
    files = {p: yaml.safe_load(t) for p, t in compile_tree(BASIC).items() if p.endswith(".yaml")}
    es = files["staging/apps/ExternalSecret-api-secrets.yaml"]
    assert es["apiVersion"] == "external-secrets.io/v1"
    assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "pulumi-esc-staging"}
    assert es["spec"]["data"] == [
        {"secretKey": "DB_PASSWORD", "remoteRef": {"key": "db.password"}},
        {"secretKey": "TLS_CLIENT_KEY", "remoteRef": {"key": "api.tls_client_key"}},
    ]
    (container,) = files["staging/apps/Deployment-api.yaml"]["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "DB_PASSWORD"}}}]
    assert {"name": "secret-files", "mountPath": "/etc/api/client.key", "subPath": "TLS_CLIENT_KEY", "readOnly": True} in container["volumeMounts"]
    store = files["staging/platform/ClusterSecretStore-pulumi-esc-staging.yaml"]["spec"]
    assert store["provider"]["pulumi"] == {
        "organization": "example-org", "project": "default", "environment": "platform-staging",
        "auth": {"accessToken": {"secretRef": {"namespace": "external-secrets", "name": "pulumi-esc-token", "key": "access-token"}}},
    }
    assert store["conditions"] == [{"namespaces": ["staging-apps", "staging-data"]}]


def test_gateway_component() -> None:
    files = {p: yaml.safe_load(t) for p, t in compile_tree(BASIC).items() if p.endswith(".yaml")}
    deploy = files["staging/apps/Deployment-llm-gateway.yaml"]
    gateway, proxy = deploy["spec"]["template"]["spec"]["containers"]
    assert gateway["image"] == "portkeyai/gateway:1.15.2"
    assert gateway["ports"] == [{"name": "gateway", "containerPort": 8787, "protocol": "TCP"}]
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/", "port": 8787}
    assert proxy["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "llm-gateway-config", "key": "config.json"}
    assert "files" not in json.dumps(gateway)
    config = files["staging/apps/ExternalSecret-llm-gateway-config.yaml"]["spec"]["target"]["template"]["data"]["config.json"]
    assert json.loads(config) == {
        "provider": "openrouter", "api_key": "{{ .openrouter_api_key }}",
        "override_params": {"model": "openai/gpt-4o-mini"},
        "retry": {"attempts": 2, "on_status_codes": [429, 500, 502, 503, 504]},
    }
    assert "staging/apps/HorizontalPodAutoscaler-llm-gateway.yaml" in files
    assert "staging/apps/PodDisruptionBudget-llm-gateway.yaml" in files
    api_env = files["staging/apps/ConfigMap-api-env.yaml"]["data"]
    assert api_env["LLM_GATEWAY_URL"] == "http://llm-gateway.staging-apps.svc.cluster.local:8080/v1"
    policy = files["staging/apps/NetworkPolicy-llm-gateway.yaml"]["spec"]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in policy["ingress"] for p in r["from"]] == ["api"]


@pytest.mark.parametrize("source", ["dist", "basic-fixture"])
def test_no_secret_reaches_a_plain_value(source: str) -> None:
    """Plain values go to ConfigMaps (and env[].value): none is a secret, named like one or looks like one."""
    objects = _dist() if source == "dist" else {
        p: yaml.safe_load(t) for p, t in compile_tree(BASIC).items() if p.endswith(".yaml")
    }
    read = set()
    for where, config_map, name, value, secrets in _plain_values(objects):
        read.add(config_map)
        where = f"{where} ({config_map} {name})" if config_map else where
        assert name not in secrets, f"{where}: {name} is a secret of this pod, read as a plain value"
        assert not LLM_PROVIDER_KEY.fullmatch(name), f"{where}: LLM provider key {name} outside the gateway"
        assert not is_sensitive(name), f"{where}: {name} names a secret but holds a plain value"
        assert secret_problem(name, value) is None, f"{where}: {secret_problem(name, value)}"
    config_maps = {f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in objects.values() if o["kind"] == "ConfigMap"}
    assert config_maps and read - {None} == config_maps, "every ConfigMap is read by a workload, and checked here"


def test_real_dist_holds_no_secret_and_only_the_gateway_holds_provider_keys() -> None:
    dist = _dist()
    assert not [p for p, o in dist.items() if o["kind"] == "Secret"]
    gateways = 0
    for path, obj in dist.items():
        for c in _containers(obj):
            names = {e["name"] for e in c.get("env", [])}
            assert not names & PROVIDER_KEY_VARS, path
        if obj["kind"] == "ExternalSecret":
            keys = [d["remoteRef"]["key"] for d in obj["spec"]["data"]]
            if obj["metadata"]["name"] == "llm-gateway-config":
                gateways += 1
                assert all(k.startswith("llm.") for k in keys)
            else:
                assert not any(k.startswith("llm.") for k in keys), path
    assert gateways == 2, "one gateway per environment"


@needs_crds
def test_secret_objects_are_valid_against_the_pinned_external_secrets_crds() -> None:
    from sophia.validate import validate_paths

    paths = [p for p in (ROOT / "dist").rglob("*.yaml") if p.name.startswith(("ExternalSecret-", "ClusterSecretStore-"))]
    assert len(paths) >= 6
    report = validate_paths(paths, pinned_crds())
    assert report.ok, report.summary()


def test_the_command_line_reports_every_literal_problem_located(tmp_path: Path) -> None:
    """`sophia synth` as a user runs it: every literal problem, located, dist/ untouched."""
    from conftest import REPO, run_sophia

    root = tmp_path / "environments"
    shutil.copytree(REPO / "tests/fixtures/envs/basic", root)
    catalog = root / "catalog.yaml"
    old = "      env: {LOG_LEVEL: info}\n"
    assert old in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(
        old, "      env: {LOG_LEVEL: info, API_TOKEN: ghp_0123456789abcdefghijABCDEFGHIJ012345, UPSTREAM: 10.1.2.3}\n", 1
    ))
    out = tmp_path / "dist"
    run = run_sophia("synth", "--environments", str(root), "--out", str(out), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "catalog.yaml:14: spec.services.api.env.API_TOKEN: secret literal:" in run.stderr
    assert "catalog.yaml:14: spec.services.api.env.UPSTREAM: IP address 10.1.2.3 written as a host" in run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
