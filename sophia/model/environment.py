"""Resolving one environment: the catalogue with its overrides, images pinned from its release,
and every reference checked, into an `Env` (or problems)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from sophia.model import models as m
from sophia.model.platform import Env, Service
from sophia.model.problems import Collector, Source, defined_names, did_you_mean
from sophia.values import LLM_PROVIDER_KEY, cluster_host

RESERVED_APPLICATIONS = {"argocd", "platform"}
RESERVED_ENVIRONMENTS = {"clusters"}


def _overridden(override: dict[str, Any], path: tuple[str | int, ...]) -> bool:
    """Whether the merged value at `path` was written in `override` (the environment file), as `_merge` layers it."""
    node: Any = override
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False  # merged from the catalogue below a mapping the override shares
        node = node[part]
        if not isinstance(node, dict) or part == "resources":
            return True  # replaced whole
    return bool(path)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "resources":
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _image_ref(name: str, spec: m.ServiceSpec, release: m.Release | None) -> tuple[str | None, str, str]:
    """(reference, version label, problem) for a service's image."""
    pinned = release.spec.images.get(name) if release is not None else None
    tag = pinned.tag if pinned and pinned.tag else spec.image.tag
    digest = pinned.digest if pinned and pinned.digest else spec.image.digest
    if tag == "latest":
        return None, "", "image tag 'latest' is not a version"
    if digest:
        ref = f"{spec.image.repository}@{digest}" if not tag else f"{spec.image.repository}:{tag}@{digest}"
        return ref, tag or digest.split(":", 1)[1][:12], ""
    if tag:
        return f"{spec.image.repository}:{tag}", tag, ""
    return None, "", "the image has no tag or digest"


def resolve_environment(
    env_name: str,
    env_src: Source,
    env: m.Environment,
    cat_src: Source,
    catalog: m.ServiceCatalog,
    base_specs: dict[str, m.ServiceSpec],
    by_kind: dict[str, dict[str, tuple[Source, Any]]],
    col: Collector,
) -> Env | None:
    before = len(col.problems)
    spec = env.spec
    ef = env_src.file

    def at(*path: str | int) -> int:
        return env_src.doc.line_of(("spec", *path))

    release_entry = by_kind["Release"].get(spec.release)
    if release_entry is None:
        col.add(ef, at("release"), ("spec", "release"), f"release {spec.release!r} is not defined",
                defined_names("releases", by_kind["Release"]))
    cluster_entry = by_kind["Cluster"].get(spec.cluster)
    if cluster_entry is None:
        col.add(ef, at("cluster"), ("spec", "cluster"), f"cluster {spec.cluster!r} is not defined",
                defined_names("clusters", by_kind["Cluster"]))
    release = release_entry[1] if release_entry else None
    cluster: m.Cluster | None = cluster_entry[1] if cluster_entry else None

    if release_entry is not None:
        rel_src, rel = release_entry
        for svc in rel.spec.images:
            if svc not in catalog.spec.services:
                col.add(rel_src.file, rel_src.doc.line_of(("spec", "images", svc)), ("spec", "images", svc),
                        f"service {svc!r} is not in the catalogue")

    for svc in spec.services:
        if svc not in catalog.spec.services:
            col.add(ef, at("services", svc), ("spec", "services", svc), f"service {svc!r} is not in the catalogue",
                    did_you_mean(svc, catalog.spec.services))
    for i, exc in enumerate(spec.exceptions):
        if exc.service not in catalog.spec.services:
            col.add(ef, at("exceptions", i, "service"), ("spec", "exceptions", i, "service"),
                    f"service {exc.service!r} is not in the catalogue")

    if env_name in RESERVED_ENVIRONMENTS:
        col.add(ef, env_src.doc.line_of(("metadata", "name")), ("metadata", "name"),
                f"{env_name!r} is reserved (dist/{env_name}/ holds cluster-wide objects)")
    for app in spec.namespaces:
        if app in RESERVED_APPLICATIONS:
            col.add(ef, at("namespaces", app), ("spec", "namespaces", app),
                    f"application name {app!r} is reserved for sophia's own folder dist/<environment>/{app}/")
    gateway = spec.llm_gateway
    if gateway is not None:
        if gateway.application not in spec.namespaces:
            col.add(ef, at("llmGateway", "application"), ("spec", "llmGateway", "application"),
                    f"no namespace for application {gateway.application!r}", "add it under spec.namespaces")
        if cluster is not None and gateway.placement.pool not in cluster.spec.node_pools:
            col.add(ef, at("llmGateway", "placement", "pool"), ("spec", "llmGateway", "placement", "pool"),
                    f"node pool {gateway.placement.pool!r} is not defined in cluster {cluster.metadata.name!r}")
        if spec.esc is None:
            col.add(ef, at("llmGateway"), ("spec", "llmGateway"), "the LLM gateway reads provider keys from ESC: set spec.esc")
        if "llm-gateway" in catalog.spec.services:
            col.add(ef, at("llmGateway"), ("spec", "llmGateway"), "a catalogue service is already named 'llm-gateway'")

    services: dict[str, Service] = {}
    invalid: set[str] = set()
    for name, raw in catalog.spec.services.items():
        if name not in base_specs:
            invalid.add(name)
            continue  # already reported against the catalogue
        override = spec.services.get(name)
        if override is not None and not override.enabled:
            continue
        prefix = ("spec", "services", name)
        raw_override = env_src.doc.data["spec"].get("services", {}).get(name) or {}
        over = {k: v for k, v in raw_override.items() if k != "enabled"}
        merged = _merge(raw, over)

        def locate(loc: tuple[str | int, ...], p: tuple[str | int, ...] = prefix, o: dict[str, Any] = over) -> tuple[str, int]:
            if _overridden(o, loc):
                return ef, env_src.doc.line_of((*p, *loc))
            return cat_src.file, cat_src.doc.line_of((*p, *loc))

        try:
            # Without overrides the catalogue's own (frozen) spec is shared by every environment:
            # validated once, held once.
            svc_spec = m.ServiceSpec.model_validate(merged) if over else base_specs[name]
        except ValidationError as exc:
            col.pydantic(exc, locate, prefix, m.ServiceSpec)
            invalid.add(name)
            continue
        ref, version, problem = _image_ref(name, svc_spec, release)
        if problem and release_entry is None:
            invalid.add(name)
            continue  # the undefined release is reported once, above
        if problem:
            rel_file = release_entry[0].file if release_entry else ef
            rel_line = release_entry[0].doc.line_of(("spec", "images", name)) if release_entry else at("release")
            col.add(rel_file, rel_line, ("spec", "images", name), f"{name}: {problem}",
                    f"pin a version in the release: images.{name}.tag (or .digest); 'latest' is never accepted")
            invalid.add(name)
            continue
        if svc_spec.application not in spec.namespaces:
            col.add(ef, at("namespaces"), ("spec", "namespaces"),
                    f"no namespace for application {svc_spec.application!r} (used by service {name!r})",
                    f"add `{svc_spec.application}: <namespace>` under spec.namespaces")
            invalid.add(name)
            continue
        if cluster is not None and svc_spec.placement.pool not in cluster.spec.node_pools:
            file, line = locate(("placement", "pool"))
            col.add(file, line, (*prefix, "placement", "pool"),
                    f"node pool {svc_spec.placement.pool!r} is not defined in cluster {cluster.metadata.name!r}",
                    did_you_mean(svc_spec.placement.pool, cluster.spec.node_pools))
            invalid.add(name)
            continue
        assert ref is not None
        if svc_spec.secrets and spec.esc is None:
            file, line = locate(("secrets",))
            col.add(file, line, (*prefix, "secrets"), f"{name} reads secrets but the environment names no ESC environment",
                    "set spec.esc (organization, environment) in the environment file")
        for var, ref_ in svc_spec.secrets.items():
            if LLM_PROVIDER_KEY.fullmatch(var) or ref_.key.startswith("llm."):
                file, line = locate(("secrets", var))
                col.add(file, line, (*prefix, "secrets", var), f"LLM provider key {var} outside the LLM gateway",
                        "only the gateway holds provider keys: drop the secret and set `callsLlm: true`")
        if svc_spec.expose is not None and (spec.domain is None or spec.tls is None):
            file, line = locate(("expose",))
            col.add(file, line, (*prefix, "expose"), f"{name} is exposed but the environment has no domain and tls",
                    "set spec.domain and spec.tls (ACME e-mail) in the environment file, or remove expose")
        if svc_spec.calls_llm and gateway is None:
            file, line = locate(("callsLlm",))
            col.add(file, line, (*prefix, "callsLlm"), "callsLlm is set but the environment has no llmGateway",
                    "configure spec.llmGateway in the environment file")
        services[name] = Service(
            name=name,
            spec=svc_spec,
            image=ref,
            version=version,
            namespace=spec.namespaces[svc_spec.application],
            source=ef if name in spec.services else cat_src.file,
        )

    def locate_field(n: str, *path: str | int) -> tuple[str, int]:
        o = env_src.doc.data["spec"].get("services", {}).get(n) or {}
        if _overridden(o, path):
            return ef, env_src.doc.line_of(("spec", "services", n, *path))
        return cat_src.file, cat_src.doc.line_of(("spec", "services", n, *path))

    # A plain env value must not hold a cluster address: that is what dependencies are for.
    for name, svc in services.items():
        for var, value in svc.spec.env.items():
            host = cluster_host(var, value, frozenset(spec.namespaces.values()))
            if host is not None:
                file, line = locate_field(name, "env", var)
                col.add(file, line, ("spec", "services", name, "env", var),
                        f"{var} holds the cluster address {host!r} as a plain value",
                        f"declare a dependency instead: dependencies: [{{service: <name>, env: {var}}}]; "
                        "sophia derives the URL")

    # Cross-references between the services of this environment.
    for name, svc in services.items():
        def locate_dep(path: tuple[str | int, ...], n: str = name) -> tuple[str, int]:
            return locate_field(n, *path)

        owners: dict[str, str] = {}
        for var in svc.spec.env:
            owners[var] = f"env.{var}"
        if "ENVIRONMENT" in owners:
            file, line = locate_dep(("env", "ENVIRONMENT"))
            col.add(file, line, ("spec", "services", name, "env", "ENVIRONMENT"),
                    "ENVIRONMENT is set by sophia to the environment's name", "remove it from env")
        owners["ENVIRONMENT"] = "sophia (the environment's name)"
        if m.uses_pod_ip(svc.spec):
            if m.POD_IP_VARIABLE in owners:
                file, line = locate_dep(("env", m.POD_IP_VARIABLE))
                col.add(file, line, ("spec", "services", name, "env", m.POD_IP_VARIABLE),
                        f"{m.POD_IP_VARIABLE} is the pod's address, which sophia sets because the command uses "
                        f"$({m.POD_IP_VARIABLE})", "remove it from env")
            owners[m.POD_IP_VARIABLE] = f"$({m.POD_IP_VARIABLE}) in the command"
        if svc.spec.calls_llm:
            for var in m.LLM_VARIABLES:
                if var in owners:
                    file, line = locate_dep(("env", var))
                    col.add(file, line, ("spec", "services", name, "env", var),
                            f"{var} is set by callsLlm (the LLM gateway's address and routing)", "remove it from env")
                owners[var] = "callsLlm"
        for var, secret in svc.spec.secrets.items():
            if secret.mount_path is not None:
                continue  # a file, not an env var
            if var in owners:
                file, line = locate_dep(("secrets", var))
                col.add(file, line, ("spec", "services", name, "secrets", var),
                        f"{var} is set twice: by secrets.{var} and by {owners[var]}", "keep one of them")
            owners.setdefault(var, f"secrets.{var}")
        for i, dep in enumerate(svc.spec.dependencies):
            var = dep.variable
            if var in owners:
                file, line = locate_dep(("dependencies", i))
                col.add(file, line, ("spec", "services", name, "dependencies", i, "env"),
                        f"{var} is set twice: by this dependency and by {owners[var]}",
                        "give this dependency its own variable with env: <NAME>")
            owners.setdefault(var, f"dependencies[{i}]")

        for i, dep in enumerate(svc.spec.dependencies):
            path = ("dependencies", i, "service")
            target = services.get(dep.service)
            if dep.service == name:
                file, line = locate_dep(path)
                col.add(file, line, ("spec", "services", name, *path), "a service cannot depend on itself")
            elif target is None and dep.service in invalid:
                continue  # its own problem is reported; do not cascade to its dependants
            elif target is None:
                file, line = locate_dep(path)
                why = "is disabled in this environment" if dep.service in catalog.spec.services else "is not defined"
                col.add(file, line, ("spec", "services", name, *path), f"dependency {dep.service!r} {why}",
                        did_you_mean(dep.service, catalog.spec.services))
            elif dep.port is not None and dep.port not in target.spec.ports:
                file, line = locate_dep(("dependencies", i, "port"))
                col.add(file, line, ("spec", "services", name, "dependencies", i, "port"),
                        f"service {dep.service!r} has no port {dep.port!r}",
                        "its ports: " + ", ".join(sorted(target.spec.ports)) if target.spec.ports else "it has no ports")
            elif not target.spec.ports:
                file, line = locate_dep(path)
                col.add(file, line, ("spec", "services", name, *path),
                        f"service {dep.service!r} has no ports, so nothing can connect to it")

    if len(col.problems) != before or cluster is None:
        return None
    return Env(name=env_name, spec=spec, cluster=cluster, services=services, file=ef, locate=locate_field,
               locate_spec=lambda *path: (ef, at(*path)))
