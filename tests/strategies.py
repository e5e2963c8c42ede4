"""Hypothesis strategies: valid environment folders across the whole format, and mutations of them.

`platforms()` draws a folder as `{relative path: YAML text}`: one ServiceCatalog whose services
cover every workload type (web, worker, stateful, cronjob) with ports, probes of each kind,
autoscaling, volumes, a dependency DAG, GPUs on a tainted GPU pool, env values, secrets from ESC,
ingress and egress; one Cluster; a Release and an Environment per environment, each with its own
overrides. `mutations()` turns such a folder into a broken (or still valid) one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

API = "sophia.ai/v1alpha1"
GPU_MODELS = ["GH200", "A100", "A6000", "A10", "RTX6000"]
RESERVED = {"argocd", "platform", "clusters", "default", "kube-system", "llm-gateway"}

# short DNS-1035 labels: names compose into longer ones (namespaces, Service names, env vars)
names = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,3})?", fullmatch=True).filter(lambda n: n not in RESERVED)
port_names = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)
env_names = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: not any(w in n for w in ("KEY", "SECRET", "PASS", "TOKEN", "PWD", "AUTH", "CRED"))
)
env_values = st.sampled_from(["info", "debug", "on", "off", "1", "eu-west", "/data/cache", "sophia", ""])
paths = st.from_regex(r"/[a-z]{1,8}(/[a-z0-9]{1,6}){0,2}", fullmatch=True)
cpus = st.sampled_from(["50m", "100m", "250m", "500m", "1", "2"])
memories = st.sampled_from(["64Mi", "128Mi", "512Mi", "1Gi", "2Gi"])
tags = st.from_regex(r"[0-9]{4}\.[0-9]{2}\.[0-9]{2}(-rc[0-9])?", fullmatch=True)


def _resources(draw: st.DrawFn) -> dict[str, Any]:
    cpu, memory = draw(cpus), draw(memories)
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}


def _probe(draw: st.DrawFn, ports: list[str]) -> dict[str, Any]:
    kinds = ["exec", *(["http", "tcp"] if ports else [])]
    kind = draw(st.sampled_from(kinds))
    probe: dict[str, Any]
    if kind == "http":
        probe = {"http": {"path": draw(paths), "port": draw(st.sampled_from(ports))}}
    elif kind == "tcp":
        probe = {"tcp": {"port": draw(st.sampled_from(ports))}}
    else:
        probe = {"exec": draw(st.lists(st.sampled_from(["check", "--ready", "-q", "/bin/health"]), min_size=1, max_size=3))}
    for field, low in (("initialDelaySeconds", 0), ("periodSeconds", 1), ("timeoutSeconds", 1), ("failureThreshold", 1)):
        if draw(st.booleans()):
            probe[field] = draw(st.integers(low, 60))
    return probe


def _service(draw: st.DrawFn, name: str, kind: str, app: str, earlier: dict[str, dict[str, Any]], gpu_model: str) -> dict[str, Any]:
    svc: dict[str, Any] = {"type": kind, "application": app, "image": {"repository": f"example/{name}"}}
    if draw(st.booleans()):
        svc["component"] = draw(names)
    if draw(st.booleans()):
        svc["description"] = f"the {name} service"
    n_ports = draw(st.integers(1 if kind == "web" else 0, 2))
    port_list = draw(st.lists(port_names, min_size=n_ports, max_size=n_ports, unique=True))
    numbers = draw(st.lists(st.integers(1024, 65535), min_size=n_ports, max_size=n_ports, unique=True))
    ports = {}
    for pname, number in zip(port_list, numbers, strict=True):
        port: dict[str, Any] = {"port": number}
        if draw(st.booleans()):
            port["scheme"] = draw(st.sampled_from(["http", "grpc", "redis", "postgresql"]))
        ports[pname] = port
    if ports:
        svc["ports"] = ports
    if kind != "cronjob":
        # the model lets probes out, but policy SOPHIA-PROBE-001 wants liveness and readiness (see the report)
        probes = {p: _probe(draw, port_list) for p in ("liveness", "readiness", "startup") if p != "startup" or draw(st.booleans())}
        svc["probes"] = probes
    svc["resources"] = _resources(draw)
    env = draw(st.dictionaries(env_names, env_values, max_size=3))
    if env:
        svc["env"] = env
    if draw(st.booleans()):
        svc["secrets"] = {
            var: {"key": f"{name.replace('-', '_')}.{var.lower()}"}
            for var in draw(st.lists(st.sampled_from(["DB_PASSWORD", "API_TOKEN", "SIGNING_SECRET"]), max_size=2, unique=True))
        }
    if kind in ("web", "worker") and draw(st.booleans()):
        low = draw(st.integers(1, 3))
        svc["autoscaling"] = {"minReplicas": low, "maxReplicas": draw(st.integers(low, 5))}
    elif kind != "cronjob":
        svc["replicas"] = draw(st.integers(1, 3))
    if kind == "stateful":
        mounts = draw(st.lists(paths, min_size=1, max_size=2, unique=True))
        vol_names = draw(st.lists(names, min_size=len(mounts), max_size=len(mounts), unique=True))
        sizes = st.sampled_from(["1Gi", "10Gi"])
        svc["volumes"] = {v: {"mountPath": m, "size": draw(sizes)} for v, m in zip(vol_names, mounts, strict=True)}
    if kind == "cronjob":
        svc["schedule"] = draw(st.sampled_from(["*/5 * * * *", "0 3 * * *", "@daily", "@hourly"]))
    if draw(st.booleans()):
        svc["scratch"] = draw(st.lists(paths, min_size=1, max_size=2, unique=True))
    targets = [n for n, s in earlier.items() if s.get("ports")]
    deps = draw(st.lists(st.sampled_from(targets), max_size=3, unique=True)) if targets else []
    if deps:
        svc["dependencies"] = []
        for dep in deps:
            entry: dict[str, Any] = {"service": dep}
            if draw(st.booleans()):
                entry["port"] = draw(st.sampled_from(sorted(earlier[dep]["ports"])))
            svc["dependencies"].append(entry)
    if kind != "cronjob" and draw(st.integers(0, 3)) == 0:
        svc["gpu"] = {"models": [gpu_model], "count": 1}
        svc["placement"] = {"pool": "gpu"}
    else:
        svc["placement"] = {"pool": draw(st.sampled_from(["general", "spare"]))}
    if kind == "web" and draw(st.booleans()):
        svc["expose"] = {"host": name}
    if draw(st.integers(0, 3)) == 0:
        svc["egress"] = [{"name": "partner", "reason": "calls the partner API"}]
    if draw(st.integers(0, 4)) == 0:
        svc["args"] = ["--verbose"]
    return svc


@st.composite
def platforms(draw: st.DrawFn) -> dict[str, str]:
    """A valid environments folder, as `{relative path: YAML text}`."""
    apps = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    service_names = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    gpu_model = draw(st.sampled_from(GPU_MODELS))
    kinds = ["web", "worker", "stateful", "cronjob"]
    services: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(service_names):
        kind = kinds[i] if i < len(kinds) and draw(st.booleans()) else draw(st.sampled_from(kinds))
        services[name] = _service(draw, name, kind, draw(st.sampled_from(apps)), dict(services), gpu_model)
    depended = {d["service"] for s in services.values() for d in s.get("dependencies", [])}

    big = {"cpu": "1000", "memory": "100000Gi"}
    cluster = {
        "apiVersion": API, "kind": "Cluster", "metadata": {"name": "lab"},
        "spec": {"nodePools": {
            "general": {"labels": {"sophia.ai/pool": "general"}, "capacity": big, "nodes": 3},
            "spare": {"labels": {"sophia.ai/pool": "spare"}, "capacity": big},
            "gpu": {
                "labels": {"sophia.ai/pool": "gpu"}, "capacity": big, "nodes": 8,
                "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
                "gpu": {"model": gpu_model, "count": 8, "memoryGiB": 48}, "generalWorkloads": False,
            },
        }},
    }
    files = {
        "catalog.yaml": {"apiVersion": API, "kind": "ServiceCatalog", "metadata": {"name": "fuzz"}, "spec": {"services": services}},
        "clusters/lab.yaml": cluster,
    }
    env_names_ = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    for env in env_names_:
        files[f"releases/{env}.yaml"] = {
            "apiVersion": API, "kind": "Release", "metadata": {"name": env},
            "spec": {"images": {s: {"tag": draw(tags)} for s in service_names}},
        }
        overrides: dict[str, Any] = {}
        for s, spec in services.items():
            choice = draw(st.sampled_from(["none", "none", "replicas", "env", "resources", "disable"]))
            if choice == "replicas" and "replicas" in spec:
                overrides[s] = {"replicas": draw(st.integers(1, 4))}
            elif choice == "env":
                overrides[s] = {"env": {"LOG_LEVEL": draw(env_values)}}
            elif choice == "resources":
                overrides[s] = {"resources": _resources(draw)}
            elif choice == "disable" and s not in depended:
                overrides[s] = {"enabled": False}
        spec_: dict[str, Any] = {
            "release": env,
            "cluster": "lab",
            "source": {"repoURL": "https://github.com/example/deploy.git", "targetRevision": "main", "path": "dist"},
            "namespaces": {a: f"{env}-{a}" for a in apps},
            "domain": f"{env}.example.org",
            "esc": {"organization": "example", "environment": env},
            "tls": {"email": "ops@example.org", "acme": draw(st.sampled_from(["production", "staging"]))},
        }
        if overrides:
            spec_["services"] = overrides
        files[f"{env}.yaml"] = {"apiVersion": API, "kind": "Environment", "metadata": {"name": env}, "spec": spec_}
    return {path: yaml.safe_dump(doc, sort_keys=False) for path, doc in files.items()}


def write_folder(files: dict[str, str], root: Path) -> Path:
    """Write `{relative path: text}` under `root` (which is created) and return it."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# --- mutations -------------------------------------------------------------------------------------

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=8), st.lists(st.integers(), max_size=2), st.just({}))


def _paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths_in(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths_in(v, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


@st.composite
def mutations(draw: st.DrawFn, files: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(what was done, the mutated folder): a field deleted, retyped or renamed, junk added, a reference
    renamed, or a file's text truncated."""
    out = dict(files)
    rel = draw(st.sampled_from(sorted(files)))
    action = draw(st.sampled_from(["delete", "retype", "junk-key", "rename-key", "rename-reference", "truncate"]))
    if action == "truncate":
        text = files[rel]
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        out[rel] = text[:cut]
        return f"truncate {rel} at {cut}", out
    doc = yaml.safe_load(files[rel])
    where = draw(st.sampled_from(_paths_in(doc)))
    parent = _parent(doc, where)
    key = where[-1]
    if action == "delete":
        del parent[key]
    elif action == "retype":
        parent[key] = draw(JUNK)
    elif action == "junk-key" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=10))] = draw(JUNK)
    elif action == "rename-key" and isinstance(parent, dict):
        parent[key + draw(st.sampled_from(["s", "x", "-2", "_"]))] = parent.pop(key)
    elif action == "rename-reference" and isinstance(parent[key], str):
        parent[key] = parent[key] + draw(st.sampled_from(["x", "-old", "2"]))
    else:
        parent[key] = draw(JUNK)
        action = "retype"
    out[rel] = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    return f"{action} {rel}:{'.'.join(map(str, where))}", out
