"""Resolving one environment: the catalogue with its overrides, images pinned from its release,
and every reference checked, into an `Env` (or problems)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from sophia.model import models as m
from sophia.model.platform import Env, LocatedPatch, Service
from sophia.model.problems import Collector, Source, defined_names, did_you_mean
from sophia.values import LLM_PROVIDER_KEY, cluster_host

RESERVED_APPLICATIONS = {"argocd", "platform"}
RESERVED_ENVIRONMENTS = {"clusters"}
MAX_HOST = 253
"""Longest DNS name: an exposed service's host (expose.host + the domain) is an Ingress host."""


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


@dataclass(frozen=True)
class _Files:
    """Where an environment's fields are written: its own file, or the catalogue for what it does not override."""

    env: Source
    catalog: Source

    def spec_field(self, *path: str | int) -> tuple[str, int]:
        """(file, line) of `spec.<path>` in the environment file."""
        return self.env.file, self.env.doc.line_of(("spec", *path))

    def service_field(self, service: str, *path: str | int) -> tuple[str, int]:
        """(file, line) of a field of a service as this environment runs it: the environment file where it
        overrides the field, else the catalogue."""
        overrides = self.env.doc.data["spec"].get("services", {}).get(service) or {}
        where = self.env if _overridden(overrides, path) else self.catalog
        return where.file, where.doc.line_of(("spec", "services", service, *path))


@dataclass
class _Environment:
    """One environment being resolved: what it reads, and where its problems go."""

    name: str
    spec: m.EnvironmentSpec
    files: _Files
    catalog: m.ServiceCatalog
    base_specs: dict[str, m.ServiceSpec]
    by_kind: dict[str, dict[str, tuple[Source, Any]]]
    col: Collector

    def problem(self, path: tuple[str | int, ...], message: str, hint: str = "") -> None:
        """A problem with `spec.<path>` of the environment file."""
        self.col.add(*self.files.spec_field(*path), ("spec", *path), message, hint)

    def service_problem(
        self, service: str, path: tuple[str | int, ...], message: str, hint: str = "", *,
        located: tuple[str | int, ...] | None = None,
    ) -> None:
        """A problem with a field of a service, located where the field was written (or at `located`)."""
        file, line = self.files.service_field(service, *(path if located is None else located))
        self.col.add(file, line, ("spec", "services", service, *path), message, hint)


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
    """The environment with every reference checked and every service complete; None when it has problems
    (each of them added to `col`)."""
    before = len(col.problems)
    e = _Environment(env_name, env.spec, _Files(env_src, cat_src), catalog, base_specs, by_kind, col)
    release = _definition(e, "Release", e.spec.release, "release", "releases")
    cluster_entry = _definition(e, "Cluster", e.spec.cluster, "cluster", "clusters")
    cluster: m.Cluster | None = cluster_entry[1] if cluster_entry else None
    if release is not None:
        _release_images(e, release)
    _catalogue_references(e)
    _reserved_names(e)
    _llm_gateway(e, cluster)
    services, invalid = _services(e, release, cluster)
    for svc in services.values():
        _cluster_addresses(e, svc)
        _variables_set_once(e, svc)
        _dependencies(e, svc, services, invalid)
    if len(col.problems) != before or cluster is None:
        return None
    return Env(name=env_name, spec=e.spec, cluster=cluster, services=services, file=env_src.file,
               locate=e.files.service_field, locate_spec=e.files.spec_field)


def _definition(e: _Environment, kind: str, name: str, field: str, plural: str) -> tuple[Source, Any] | None:
    """The Release or Cluster the environment names, with its file; None (and a problem) when undefined."""
    entry = e.by_kind[kind].get(name)
    if entry is None:
        e.problem((field,), f"{field} {name!r} is not defined", defined_names(plural, e.by_kind[kind]))
    return entry


def _release_images(e: _Environment, release: tuple[Source, Any]) -> None:
    """Every image the release pins is of a catalogue service."""
    src, rel = release
    for svc in rel.spec.images:
        if svc not in e.catalog.spec.services:
            e.col.add(src.file, src.doc.line_of(("spec", "images", svc)), ("spec", "images", svc),
                      f"service {svc!r} is not in the catalogue")


def _catalogue_references(e: _Environment) -> None:
    """Every service the environment overrides or relaxes is in the catalogue."""
    for svc in e.spec.services:
        if svc not in e.catalog.spec.services:
            e.problem(("services", svc), f"service {svc!r} is not in the catalogue", did_you_mean(svc, e.catalog.spec.services))
    for i, exc in enumerate(e.spec.exceptions):
        if exc.service not in e.catalog.spec.services:
            e.problem(("exceptions", i, "service"), f"service {exc.service!r} is not in the catalogue")


def _reserved_names(e: _Environment) -> None:
    """The environment and its applications do not take the names of sophia's own folders."""
    if e.name in RESERVED_ENVIRONMENTS:
        src = e.files.env
        e.col.add(src.file, src.doc.line_of(("metadata", "name")), ("metadata", "name"),
                  f"{e.name!r} is reserved (dist/{e.name}/ holds cluster-wide objects)")
    for app in e.spec.namespaces:
        if app in RESERVED_APPLICATIONS:
            e.problem(("namespaces", app),
                      f"application name {app!r} is reserved for sophia's own folder dist/<environment>/{app}/")


def _llm_gateway(e: _Environment, cluster: m.Cluster | None) -> None:
    """The LLM gateway has a namespace, a pool of the cluster and ESC, and its name is free."""
    gateway = e.spec.llm_gateway
    if gateway is None:
        return
    if gateway.application not in e.spec.namespaces:
        e.problem(("llmGateway", "application"), f"no namespace for application {gateway.application!r}",
                  "add it under spec.namespaces")
    if cluster is not None and gateway.placement.pool not in cluster.spec.node_pools:
        e.problem(("llmGateway", "placement", "pool"),
                  f"node pool {gateway.placement.pool!r} is not defined in cluster {cluster.metadata.name!r}")
    if e.spec.esc is None:
        e.problem(("llmGateway",), "the LLM gateway reads provider keys from ESC: set spec.esc")
    if "llm-gateway" in e.catalog.spec.services:
        e.problem(("llmGateway",), "a catalogue service is already named 'llm-gateway'")


def _services(
    e: _Environment, release: tuple[Source, Any] | None, cluster: m.Cluster | None
) -> tuple[dict[str, Service], set[str]]:
    """Every enabled service as this environment runs it, and the names of those that could not be resolved."""
    services: dict[str, Service] = {}
    invalid: set[str] = set()
    for name, raw in e.catalog.spec.services.items():
        if name not in e.base_specs:
            invalid.add(name)
            continue  # already reported against the catalogue
        override = e.spec.services.get(name)
        if override is not None and not override.enabled:
            continue
        svc = _service(e, name, raw, release, cluster)
        if svc is None:
            invalid.add(name)
            continue
        _service_settings(e, svc)
        services[name] = svc
    return services, invalid


def _service(
    e: _Environment, name: str, raw: dict[str, Any], release: tuple[Source, Any] | None, cluster: m.Cluster | None
) -> Service | None:
    """One catalogue service with the environment's overrides, its image pinned, its namespace and pool checked."""
    raw_override = e.files.env.doc.data["spec"].get("services", {}).get(name) or {}
    over = {k: v for k, v in raw_override.items() if k not in ("enabled", "patches")}
    added_patches = raw_override.get("patches") or []
    try:
        # Without overrides the catalogue's own (frozen) spec is shared by every environment:
        # validated once, held once. An environment's patches come after the catalogue's.
        merged = {**_merge(raw, over), "patches": [*(raw.get("patches") or []), *added_patches]} if added_patches else _merge(raw, over)
        spec = m.ServiceSpec.model_validate(merged) if over or added_patches else e.base_specs[name]
    except ValidationError as exc:
        e.col.pydantic(exc, lambda loc: e.files.service_field(name, *loc), ("spec", "services", name), m.ServiceSpec)
        return None
    ref, version, problem = _image_ref(name, spec, release[1] if release else None)
    if problem and release is None:
        return None  # the undefined release is reported once, above
    if problem:
        assert release is not None
        e.col.add(release[0].file, release[0].doc.line_of(("spec", "images", name)), ("spec", "images", name),
                  f"{name}: {problem}",
                  f"pin a version in the release: images.{name}.tag (or .digest); 'latest' is never accepted")
        return None
    if spec.application not in e.spec.namespaces:
        e.problem(("namespaces",), f"no namespace for application {spec.application!r} (used by service {name!r})",
                  f"add `{spec.application}: <namespace>` under spec.namespaces")
        return None
    if cluster is not None and spec.placement.pool not in cluster.spec.node_pools:
        e.service_problem(name, ("placement", "pool"),
                          f"node pool {spec.placement.pool!r} is not defined in cluster {cluster.metadata.name!r}",
                          did_you_mean(spec.placement.pool, cluster.spec.node_pools))
        return None
    assert ref is not None
    source = e.files.env.file if name in e.spec.services else e.files.catalog.file
    return Service(name=name, spec=spec, image=ref, version=version,
                   namespace=e.spec.namespaces[spec.application], source=source,
                   patches=_located_patches(e, name, spec, len(raw.get("patches") or [])))


def _located_patches(e: _Environment, name: str, spec: m.ServiceSpec, from_catalogue: int) -> tuple[LocatedPatch, ...]:
    """The service's patches, each with the file and lines it is written at (catalogue first)."""
    located = []
    for index, patch in enumerate(spec.patches):
        where, j = (e.files.catalog, index) if index < from_catalogue else (e.files.env, index - from_catalogue)
        base = ("spec", "services", name, "patches", j)
        located.append(LocatedPatch(
            patch=patch, file=where.file, path=f"spec.services.{name}.patches[{j}]",
            target_line=where.doc.line_of((*base, "target")),
            operation_lines=tuple(where.doc.line_of((*base, "operations", i)) for i in range(len(patch.operations))),
        ))
    return tuple(located)


def _service_settings(e: _Environment, svc: Service) -> None:
    """What a service asks of its environment is there: ESC for secrets, domain and tls to be exposed, the
    LLM gateway for callsLlm; and provider keys stay with the gateway."""
    name, spec = svc.name, svc.spec
    if spec.secrets and e.spec.esc is None:
        e.service_problem(name, ("secrets",), f"{name} reads secrets but the environment names no ESC environment",
                          "set spec.esc (organization, environment) in the environment file")
    for var, ref in spec.secrets.items():
        if LLM_PROVIDER_KEY.fullmatch(var) or ref.key.startswith("llm."):
            e.service_problem(name, ("secrets", var), f"LLM provider key {var} outside the LLM gateway",
                              "only the gateway holds provider keys: drop the secret and set `callsLlm: true`")
    if spec.expose is not None and (e.spec.domain is None or e.spec.tls is None):
        e.service_problem(name, ("expose",), f"{name} is exposed but the environment has no domain and tls",
                          "set spec.domain and spec.tls (ACME e-mail) in the environment file, or remove expose")
    elif spec.expose is not None and e.spec.domain is not None:
        exposed = f"{spec.expose.host}.{e.spec.domain}"
        if len(exposed) > MAX_HOST:
            e.service_problem(name, ("expose", "host"),
                              f"host {exposed!r} is {len(exposed)} characters, more than the {MAX_HOST} of a DNS name (Ingress host)",
                              "choose a shorter expose.host or spec.domain")
    if spec.calls_llm and e.spec.llm_gateway is None:
        e.service_problem(name, ("callsLlm",), "callsLlm is set but the environment has no llmGateway",
                          "configure spec.llmGateway in the environment file")


def _cluster_addresses(e: _Environment, svc: Service) -> None:
    """A plain env value must not hold a cluster address: that is what dependencies are for."""
    for var, value in svc.spec.env.items():
        host = cluster_host(var, value, frozenset(e.spec.namespaces.values()))
        if host is not None:
            e.service_problem(svc.name, ("env", var), f"{var} holds the cluster address {host!r} as a plain value",
                              f"declare a dependency instead: dependencies: [{{service: <name>, env: {var}}}]; "
                              "sophia derives the URL")


def _variables_set_once(e: _Environment, svc: Service) -> None:
    """Every env var of the container has one source: env, sophia itself, callsLlm, a secret or a dependency."""
    name, spec = svc.name, svc.spec
    owners: dict[str, str] = {var: f"env.{var}" for var in spec.env}
    if "ENVIRONMENT" in owners:
        e.service_problem(name, ("env", "ENVIRONMENT"), "ENVIRONMENT is set by sophia to the environment's name",
                          "remove it from env")
    owners["ENVIRONMENT"] = "sophia (the environment's name)"
    if m.uses_pod_ip(spec):
        if m.POD_IP_VARIABLE in owners:
            e.service_problem(name, ("env", m.POD_IP_VARIABLE),
                              f"{m.POD_IP_VARIABLE} is the pod's address, which sophia sets because the command uses "
                              f"$({m.POD_IP_VARIABLE})", "remove it from env")
        owners[m.POD_IP_VARIABLE] = f"$({m.POD_IP_VARIABLE}) in the command"
    if spec.calls_llm:
        for var in m.LLM_VARIABLES:
            if var in owners:
                e.service_problem(name, ("env", var), f"{var} is set by callsLlm (the LLM gateway's address and routing)",
                                  "remove it from env")
            owners[var] = "callsLlm"
    for var, secret in spec.secrets.items():
        if secret.mount_path is not None:
            continue  # a file, not an env var
        if var in owners:
            e.service_problem(name, ("secrets", var), f"{var} is set twice: by secrets.{var} and by {owners[var]}",
                              "keep one of them")
        owners.setdefault(var, f"secrets.{var}")
    for i, dep in enumerate(spec.dependencies):
        var = dep.variable
        if var in owners:
            e.service_problem(name, ("dependencies", i, "env"), f"{var} is set twice: by this dependency and by {owners[var]}",
                              "give this dependency its own variable with env: <NAME>", located=("dependencies", i))
        owners.setdefault(var, f"dependencies[{i}]")


def _dependencies(e: _Environment, svc: Service, services: dict[str, Service], invalid: set[str]) -> None:
    """Every dependency names another service of this environment, and a port it has."""
    known = e.catalog.spec.services
    for i, dep in enumerate(svc.spec.dependencies):
        path = ("dependencies", i, "service")
        target = services.get(dep.service)
        if dep.service == svc.name:
            e.service_problem(svc.name, path, "a service cannot depend on itself")
        elif target is None and dep.service in invalid:
            continue  # its own problem is reported; do not cascade to its dependants
        elif target is None:
            why = "is disabled in this environment" if dep.service in known else "is not defined"
            e.service_problem(svc.name, path, f"dependency {dep.service!r} {why}", did_you_mean(dep.service, known))
        elif dep.port is not None and dep.port not in target.spec.ports:
            e.service_problem(svc.name, ("dependencies", i, "port"), f"service {dep.service!r} has no port {dep.port!r}",
                              "its ports: " + ", ".join(sorted(target.spec.ports)) if target.spec.ports else "it has no ports")
        elif not target.spec.ports:
            e.service_problem(svc.name, path, f"service {dep.service!r} has no ports, so nothing can connect to it")
