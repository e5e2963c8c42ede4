"""Hypothesis strategies: valid environment folders across the whole format, and mutations of them.

`platforms()` draws a folder as `{relative path: YAML text}`: one ServiceCatalog whose services
cover every workload type (web, worker, stateful, cronjob, daemonset, job) with ports, probes of each
kind, autoscaling, volumes, a dependency DAG, GPUs on a tainted GPU pool, env values, secrets from
ESC, ingress and egress, init containers and sidecars, preStop and grace periods, topology spread,
pod labels and annotations; one Cluster; a Release and an Environment per environment, each with
its own overrides. `mutations()` turns such a folder into a broken (or still valid) one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

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


_WORDS = ["sophia", "service", "api", "worker", "data", "gateway", "batch", "report", "cache", "queue", "stream",
          "search", "index", "store", "model", "vector", "2", "v3"]


def _long_names(low: int, high: int) -> st.SearchStrategy[str]:
    """DNS-1035 labels of `low` to `high` characters (the model's `Name` allows 63), made of words: random
    letters would look like secrets to the literal check."""
    return st.builds(
        lambda words, size: "-".join(["x", *words])[:size].rstrip("-"),
        st.lists(st.sampled_from(_WORDS), min_size=20, max_size=30),
        st.integers(low, high),
    ).filter(lambda n: low <= len(n) <= high and n not in RESERVED)


class Shape(NamedTuple):
    """The strategies one platform is drawn from: ordinary values, or values at the model's limits."""

    names: st.SearchStrategy[str]
    short_names: st.SearchStrategy[str]
    """Names of cronjob and stateful services (the loader allows them 52 characters)."""
    ports: st.SearchStrategy[str]
    env_vars: st.SearchStrategy[str]
    tags: st.SearchStrategy[str]
    paths: st.SearchStrategy[str]
    egress: st.SearchStrategy[str]
    extreme: bool


ORDINARY = Shape(names, names, port_names, env_names, tags, paths, st.just("partner"), False)
EXTREME = Shape(
    names=_long_names(56, 63),
    short_names=_long_names(48, 52),
    # IANA service names: 15 characters, no "--", a letter
    ports=st.from_regex(r"[a-z]([a-z0-9]{0,2}-?){0,4}[a-z0-9]{1,3}", fullmatch=True).filter(lambda p: len(p) <= 15 and "--" not in p),
    env_vars=st.integers(200, 253).map(lambda n: ("V" + "A" * n)[:n]) | env_names,
    # the model's tags: 128 characters, the first may be '_', any may be '.' or '-'
    tags=st.builds(
        lambda first, parts, size: (first + "".join(parts))[:size],
        st.sampled_from(["_", "v", "1"]),
        st.lists(st.sampled_from(["1", ".0", "-rc", "_build", ".", "-", "_", "2026"]), min_size=40, max_size=60),
        st.integers(60, 128),
    ) | st.sampled_from(["_1.0", "_", "1.0.", "v1-", "1__"]),
    paths=st.sampled_from(["/tmp", "/Tmp", "/a_b", "/a-b", "/données", "/", "/" + "x" * 70, "/cache/./x"]),
    egress=_long_names(50, 56),
    extreme=True,
)


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


def _service(draw: st.DrawFn, name: str, kind: str, app: str, earlier: dict[str, dict[str, Any]], gpu_model: str,
             shape: Shape = ORDINARY) -> dict[str, Any]:
    svc: dict[str, Any] = {"type": kind, "application": app, "image": {"repository": f"example/{name}"}}
    if draw(st.booleans()):
        svc["component"] = draw(shape.names)
    if draw(st.booleans()):
        svc["description"] = f"the {name} service"
    n_ports = draw(st.integers(1 if kind == "web" else 0, 0 if kind == "job" else 2))
    port_list = draw(st.lists(shape.ports, min_size=n_ports, max_size=n_ports, unique=True))
    numbers = draw(st.lists(st.integers(1024, 65535), min_size=n_ports, max_size=n_ports, unique=True))
    ports = {}
    for pname, number in zip(port_list, numbers, strict=True):
        port: dict[str, Any] = {"port": number}
        if draw(st.booleans()):
            port["scheme"] = draw(st.sampled_from(["http", "grpc", "redis", "postgresql"]))
        ports[pname] = port
    if ports:
        svc["ports"] = ports
    if kind not in ("cronjob", "job"):
        # the model lets probes out, but policy SOPHIA-PROBE-001 wants liveness and readiness (see the report)
        probes = {p: _probe(draw, port_list) for p in ("liveness", "readiness", "startup") if p != "startup" or draw(st.booleans())}
        svc["probes"] = probes
    svc["resources"] = _resources(draw)
    env = draw(st.dictionaries(shape.env_vars, env_values, max_size=3))
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
    elif kind not in ("cronjob", "daemonset", "job"):
        svc["replicas"] = draw(st.integers(1, 3))
    # every mount path once per container (the default scratch is /tmp), no volume named like sophia's own
    scratch = draw(st.lists(shape.paths, min_size=1, max_size=3, unique=True)) if draw(st.booleans()) else ["/tmp"]
    if scratch != ["/tmp"]:
        svc["scratch"] = scratch
    if kind == "stateful":
        mounts = draw(st.lists(paths.filter(lambda m: m not in scratch), min_size=1, max_size=2, unique=True))
        own = shape.names.filter(lambda n: n != "scratch" and not n.startswith(("scratch-", "secret-files")))
        vol_names = draw(st.lists(own, min_size=len(mounts), max_size=len(mounts), unique=True))
        sizes = st.sampled_from(["1Gi", "10Gi"])
        svc["volumes"] = {v: {"mountPath": m, "size": draw(sizes)} for v, m in zip(vol_names, mounts, strict=True)}
    if kind == "cronjob":
        svc["schedule"] = draw(st.sampled_from(["*/5 * * * *", "0 3 * * *", "@daily", "@hourly", "59 23 31 12 6", "0 0 * JAN-DEC SUN"]))
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
    elif kind == "daemonset" and draw(st.booleans()):
        svc["placement"] = {"pool": "gpu"}  # a node agent of the GPU pool, asking for no GPU
    else:
        svc["placement"] = {"pool": draw(st.sampled_from(["general", "spare"]))}
    if kind == "web" and draw(st.booleans()):
        svc["expose"] = {"host": name}
    if draw(st.integers(0, 3)) == 0:
        svc["egress"] = [{"name": draw(shape.egress), "reason": "calls the partner API"}]
    if draw(st.integers(0, 4)) == 0:
        svc["args"] = ["--verbose"]
    svc.update(draw(_pod_extras(name, kind, ports, shape)))
    return svc


@st.composite
def _pod_extras(draw: st.DrawFn, name: str, kind: str, ports: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """The pod around the main container: init containers, sidecars (names and ports unique in the pod),
    preStop with a grace period that outlasts it, spread, pod labels and annotations, job settings."""
    extra: dict[str, Any] = {}
    taken_names, taken_ports = {name}, {p["port"] for p in ports.values()}
    taken_port_names = set(ports)

    def container() -> dict[str, Any]:
        cname = draw(shape.names.filter(lambda n: n not in taken_names))
        taken_names.add(cname)
        image: dict[str, Any] = {"repository": f"example/{cname}"}
        image.update(draw(st.sampled_from([{"tag": "1.2.3"}, {"digest": "sha256:" + "a" * 64}, {"tag": "2", "digest": "sha256:" + "b" * 64}])))
        out: dict[str, Any] = {"name": cname, "image": image, "resources": _resources(draw)}
        if draw(st.booleans()):
            out["command"] = ["/bin/run", "--listen", "$(POD_IP)"] if draw(st.booleans()) else ["/bin/run"]
        if draw(st.booleans()):
            out["env"] = draw(st.dictionaries(shape.env_vars, env_values, min_size=1, max_size=2))
        return out

    if draw(st.integers(0, 3)) == 0:
        extra["initContainers"] = [container() for _ in range(draw(st.integers(1, 2)))]
    if draw(st.integers(0, 3)) == 0:
        sidecars = []
        for _ in range(draw(st.integers(1, 2))):
            sidecar = container()
            if draw(st.booleans()):
                pname = draw(shape.ports.filter(lambda p: p not in taken_port_names))
                number = draw(st.integers(1024, 65535).filter(lambda n: n not in taken_ports))
                taken_port_names.add(pname)
                taken_ports.add(number)
                sidecar["ports"] = {pname: {"port": number}}
                sidecar["probes"] = {"readiness": {"tcp": {"port": pname}}, "liveness": _probe(draw, [pname])}
            sidecars.append(sidecar)
        extra["sidecars"] = sidecars
    lifecycle = draw(st.sampled_from(["none", "none", "sleep", "exec"]))
    if lifecycle == "sleep":
        sleep = draw(st.integers(1, 40))
        extra["lifecycle"] = {"preStop": {"sleepSeconds": sleep}}
        if sleep >= 30 or draw(st.booleans()):
            extra["terminationGracePeriodSeconds"] = draw(st.integers(sleep + 1, sleep + 60))
    elif lifecycle == "exec":
        extra["lifecycle"] = {"preStop": {"exec": ["/bin/drain", "--timeout", "20"]}}
    if kind in ("web", "worker", "stateful") and draw(st.booleans()):
        extra["topologySpread"] = draw(st.fixed_dictionaries({}, optional={
            "maxSkew": st.integers(1, 3), "whenUnsatisfiable": st.sampled_from(["ScheduleAnyway", "DoNotSchedule"])}))
    if draw(st.integers(0, 3)) == 0:
        extra["podLabels"] = draw(st.dictionaries(st.sampled_from(["team", "example.com/tier", "cost-center"]),
                                                  st.sampled_from(["platform", "a.b_c-d", "x" * 63, ""]), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        extra["podAnnotations"] = draw(st.dictionaries(st.sampled_from(["example.com/owner", "Example.org/Note", "note"]),
                                                       st.sampled_from(["platform team", "", "a: b, c", "x" * 300]), min_size=1, max_size=3))
    if kind == "job" and draw(st.booleans()):
        extra["job"] = draw(st.fixed_dictionaries({}, optional={
            "backoffLimit": st.integers(0, 6), "activeDeadlineSeconds": st.integers(1, 86400),
            "ttlSecondsAfterFinished": st.integers(0, 86400)}))
    return extra


@st.composite
def platforms(draw: st.DrawFn, shape: Shape = ORDINARY) -> dict[str, str]:
    """A valid environments folder, as `{relative path: YAML text}`; with `EXTREME`, values at the model's limits."""
    apps = draw(st.lists(shape.names, min_size=1, max_size=3, unique=True))
    gpu_model = draw(st.sampled_from(GPU_MODELS))
    kinds = ["web", "worker", "stateful", "cronjob", "daemonset", "job"]
    services: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 6))):
        kind = kinds[i] if i < len(kinds) and draw(st.booleans()) else draw(st.sampled_from(kinds))
        name = draw((shape.short_names if kind in ("stateful", "cronjob") else shape.names).filter(lambda n: n not in services))
        services[name] = _service(draw, name, kind, draw(st.sampled_from(apps)), dict(services), gpu_model, shape)
    service_names = list(services)
    depended = {d["service"] for s in services.values() for d in s.get("dependencies", [])}

    big = {"cpu": "1000", "memory": "100000Gi"}
    cluster_name = draw(shape.names) if shape.extreme else "lab"
    cluster = {
        "apiVersion": API, "kind": "Cluster", "metadata": {"name": cluster_name},
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
    if shape.extreme:  # cluster-wide objects too: add-on Applications, the nvidia RuntimeClass
        cluster["spec"]["source"] = {"repoURL": "https://github.com/example/deploy.git", "targetRevision": "main"}
    env_names_ = draw(st.lists(shape.names.filter(lambda n: n != "clusters"), min_size=1, max_size=3, unique=True))
    # a 189-character domain: with a 63-character host label, the 253 of a DNS name exactly
    domain = ".".join(["d" * 63, "e" * 63, "f" * 61]) if shape.extreme else None
    for j, env in enumerate(env_names_):
        files[f"releases/{env}.yaml"] = {
            "apiVersion": API, "kind": "Release", "metadata": {"name": env},
            "spec": {"images": {s: {"tag": draw(shape.tags)} for s in service_names}},
        }
        overrides: dict[str, Any] = {}
        for s, spec in services.items():
            choice = draw(st.sampled_from(["none", "none", "replicas", "env", "resources", "disable"]))
            if choice == "replicas" and "replicas" in spec:
                overrides[s] = {"replicas": draw(st.integers(1, 4))}
                if "topologySpread" in spec and draw(st.booleans()):
                    overrides[s]["topologySpread"] = {"whenUnsatisfiable": "DoNotSchedule"}
                if draw(st.booleans()):
                    overrides[s]["podLabels"] = {"environment-tier": draw(st.sampled_from(["gold", "silver"]))}
            elif choice == "env":
                overrides[s] = {"env": {"LOG_LEVEL": draw(env_values)}}
            elif choice == "resources":
                overrides[s] = {"resources": _resources(draw)}
            elif choice == "disable" and s not in depended:
                overrides[s] = {"enabled": False}
        spec_: dict[str, Any] = {
            "release": env,
            "cluster": cluster_name,
            "source": {"repoURL": "https://github.com/example/deploy.git", "targetRevision": "main", "path": "dist"},
            "namespaces": {a: f"e{j}-{k}-{a}"[:63].rstrip("-") for k, a in enumerate(apps)} if shape.extreme
            else {a: f"{env}-{a}" for a in apps},
            "domain": domain or f"{env}.example.org",
            "esc": {"organization": "example", "environment": env},
            "tls": {"email": "ops@example.org", "acme": draw(st.sampled_from(["production", "staging"]))},
        }
        if overrides:
            spec_["services"] = overrides
        if shape.extreme:
            spec_["llmGateway"] = {"application": apps[0], "placement": {"pool": "general"},
                                   "routing": {"strategy": "single", "targets": [{"provider": "openai"}]}}
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
