"""Loading: the files of an environments folder -> validated, resolved `Platform`.

The only module that reads `environments/`. It parses each file with `yamlsafe` (lines kept),
validates it against `models`, layers each environment's overrides onto the catalogue, resolves
image versions from the release, and checks every cross-reference. Every problem of the whole
folder is collected and raised together as one `SpecError`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from sophia.errors import Problem, SpecError
from sophia.model import models as m
from sophia.model.yamlsafe import MAX_FILE_BYTES, Document, YamlProblem, load_documents, load_text

MAX_FILES = 500
"""Most YAML files one environments folder may hold."""


@dataclass(frozen=True)
class Service:
    """A service as one environment runs it."""

    name: str
    spec: m.ServiceSpec
    image: str
    version: str
    namespace: str
    source: str


@dataclass(frozen=True)
class Env:
    """One environment, resolved: every reference checked, every service complete."""

    name: str
    spec: m.EnvironmentSpec
    cluster: m.Cluster
    services: dict[str, Service]
    file: str
    locate: Callable[..., tuple[str, int]] = field(repr=False, compare=False, default=lambda *a: ("", 0))
    """locate(service, *field_path) -> (file, line) where that field was written."""


@dataclass
class Platform:
    """Everything in an environments folder."""

    catalog: m.ServiceCatalog
    environments: dict[str, Env]
    files: list[str] = field(default_factory=list)


@dataclass
class _Source:
    file: str
    doc: Document


def _display(path: FsPath, root: FsPath) -> str:
    try:
        rel = path.resolve().relative_to(root.resolve().parent)
    except ValueError:
        return str(path)
    return rel.as_posix()


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, line: int | None, path: tuple[str | int, ...], message: str, hint: str = "") -> None:
        self.problems.append(Problem(file, line, _dotted(path), message, hint))

    def pydantic(
        self,
        exc: ValidationError,
        locate: Any,
        prefix: tuple[str | int, ...],
        model: type[BaseModel],
    ) -> None:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union["))))
            loc = tuple(p for p in loc if p not in ("literal_error", "[key]"))
            file, line = locate(loc)
            msg, hint = _explain(err, loc, model)
            self.add(file, line, (*prefix, *loc), msg, hint)


def _explain(err: Any, loc: tuple[str | int, ...], model: type[BaseModel]) -> tuple[str, str]:
    kind = err["type"]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        known = _known_fields(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1) if known else []
        hint = f"did you mean {close[0]!r}?" if close else ("known fields: " + ", ".join(sorted(known)) if known else "")
        return f"unknown field {loc[-1]!r}", hint
    if kind == "missing":
        return "required field is missing", ""
    return msg, ""


def _known_fields(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Field names valid at `loc` inside `model`, for 'did you mean' hints."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        if isinstance(part, int):
            continue
        target = None
        for name, f in current.model_fields.items():
            if (f.alias or name) == part:
                target = f.annotation
                break
        if target is None:
            # inside a dict keyed by a user name: the value type of the dict
            return []
        current = _model_in(target)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return _field_names(current)
    return []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None and meta is not annotation:
        return _model_in(meta)
    return None


def _read(root: FsPath, col: _Collector) -> list[_Source]:
    if not root.is_dir():
        col.add(str(root), None, (), "the environments folder does not exist or is not a folder")
        return []
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(paths) > MAX_FILES:
        col.add(str(root), None, (), f"{len(paths)} YAML files, over the limit of {MAX_FILES}")
        return []
    sources: list[_Source] = []
    for path in paths:
        name = _display(path, root)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)  # never more than the limit, whatever the file's size
            text = load_text(data)
            docs = [d for d in load_documents(text) if d.data is not None]
        except YamlProblem as exc:
            col.add(name, exc.line, exc.path, exc.message)
            continue
        except OSError as exc:
            col.add(name, None, (), f"cannot read: {exc.strerror}")
            continue
        if not docs:
            col.add(name, 1, (), "the file is empty", "remove it, or give it apiVersion, kind, metadata and spec")
            continue
        if len(docs) > 1:
            col.add(name, docs[1].start_line, (), "one definition per file, but this file holds several documents")
            continue
        sources.append(_Source(name, docs[0]))
    return sources


def _parse(src: _Source, col: _Collector) -> m.Model | None:
    data = src.doc.data
    if not isinstance(data, dict):
        col.add(src.file, src.doc.start_line, (), f"the top level must be a mapping, not a {_type_name(data)}")
        return None
    kind = data.get("kind")
    if data.get("apiVersion") != m.API_VERSION:
        col.add(
            src.file,
            src.doc.line_of(("apiVersion",)),
            ("apiVersion",),
            f"apiVersion must be {m.API_VERSION!r}",
        )
        return None
    model = m.KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        col.add(
            src.file,
            src.doc.line_of(("kind",)),
            ("kind",),
            f"unknown kind {kind!r}",
            "one of: " + ", ".join(sorted(m.KINDS)),
        )
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        col.pydantic(exc, lambda loc: (src.file, src.doc.line_of(loc)), (), model)
        return None


NAME_LIMITS: dict[str, tuple[int, str]] = {
    "cronjob": (52, "Kubernetes names each run's Job <name>-<minutes since epoch>, and a Job's name is at most 63 "
                    "characters; choose a shorter name"),
    "stateful": (52, "the StatefulSet's headless Service is <name>-headless (at most 63 characters) and Kubernetes "
                     "labels each pod with <name>-<revision hash> (at most 63); choose a shorter name"),
}
"""Service types whose objects' names Kubernetes derives longer names from: (most characters, why)."""
MAX_HOST = 253

LLM_KEY_NAMES = re.compile(r"^(OPENAI|ANTHROPIC|OPENROUTER|GROQ|MISTRAL|TOGETHER|PERPLEXITY|COHERE|GEMINI|GOOGLE_AI|DEEPSEEK|XAI)_API_KEY$")
RESERVED_APPLICATIONS = {"argocd", "platform"}
RESERVED_ENVIRONMENTS = {"clusters"}


def _guard_literals(sources: list[_Source], col: _Collector) -> None:
    """No IP address and no secret-looking literal anywhere in an environment file."""
    from sophia.validate.rules_values import ip_literals, keyed_strings, secret_problem

    checked: list[tuple[_Source, tuple[str | int, ...], tuple[str, str]]] = []
    for src in sources:
        for path, key, value in keyed_strings(src.doc.data):
            if not value:
                continue
            if "secrets" in path or "addons" in path:  # ESC key paths and chart versions, never secret values
                continue
            for address in ip_literals(value):
                if "/" in value.split(address, 1)[1][:1]:
                    continue  # a network range (CIDR) is not a host
                col.add(src.file, src.doc.line_of(path), path, f"IP address {address} written as a host",
                        "address machines by node labels and services by declared dependencies")
            checked.append((src, path, (key, value)))
    pairs = list(dict.fromkeys(pair for _, _, pair in checked))
    verdicts = {pair: secret_problem(*pair) for pair in pairs}
    for src, path, pair in checked:
        problem = verdicts[pair]
        if problem is not None:
            col.add(src.file, src.doc.line_of(path), path, f"secret literal: {problem[1]}",
                    "secrets live in Pulumi ESC: declare `secrets: {VAR: {key: <system>.<field>}}` on the service")


def _type_name(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), type(value).__name__)


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


def load(root: str | os.PathLike[str]) -> Platform:
    """Load and resolve every definition under `root`; raise `SpecError` listing all problems."""
    root_path = FsPath(root)
    col = _Collector()
    sources = _read(root_path, col)
    parsed: list[tuple[_Source, m.Model]] = []
    for src in sources:
        obj = _parse(src, col)
        if obj is not None:
            parsed.append((src, obj))
    _guard_literals(sources, col)

    by_kind: dict[str, dict[str, tuple[_Source, Any]]] = {k: {} for k in m.KINDS}
    for src, obj in parsed:
        kind = type(obj).__name__
        seen = by_kind[kind]
        name = obj.metadata.name  # type: ignore[attr-defined]
        if name in seen:
            col.add(
                src.file,
                src.doc.line_of(("metadata", "name")),
                ("metadata", "name"),
                f"{kind} {name!r} is defined twice (also in {seen[name][0].file})",
            )
            continue
        seen[name] = (src, obj)

    catalogs = by_kind["ServiceCatalog"]
    if len(catalogs) != 1 and not col.problems:
        col.add(str(root_path), None, (), f"expected exactly one ServiceCatalog, found {len(catalogs)}")
    if not catalogs:
        raise SpecError(col.problems)
    cat_src, catalog = next(iter(catalogs.values()))

    # The catalogue must be complete on its own: every entry is a valid service.
    base_specs: dict[str, m.ServiceSpec] = {}
    for name, raw in catalog.spec.services.items():
        prefix: tuple[str | int, ...] = ("spec", "services", name)
        if not isinstance(raw, dict):
            col.add(cat_src.file, cat_src.doc.line_of(prefix), prefix, f"a service must be a mapping, not a {_type_name(raw)}")
            continue
        try:
            base_specs[name] = m.ServiceSpec.model_validate(raw)
        except ValidationError as exc:
            col.pydantic(exc, lambda loc, p=prefix: (cat_src.file, cat_src.doc.line_of((*p, *loc))), prefix, m.ServiceSpec)
            continue
        limit = NAME_LIMITS.get(base_specs[name].type)
        if limit is not None and len(name) > limit[0]:
            col.add(cat_src.file, cat_src.doc.line_of(prefix), prefix,
                    f"{name!r} is {len(name)} characters: a {base_specs[name].type} service's name is at most {limit[0]}",
                    limit[1])

    envs: dict[str, Env] = {}
    for env_name, (env_src, env) in sorted(by_kind["Environment"].items()):
        envs_entry = _resolve_env(env_name, env_src, env, cat_src, catalog, base_specs, by_kind, col)
        if envs_entry is not None:
            envs[env_name] = envs_entry

    if not by_kind["Environment"] and not col.problems:
        col.add(str(root_path), None, (), "no Environment is defined")
    if col.problems:
        raise SpecError(col.problems)
    return Platform(catalog=catalog, environments=envs, files=[s.file for s in sources])


def _resolve_env(
    env_name: str,
    env_src: _Source,
    env: m.Environment,
    cat_src: _Source,
    catalog: m.ServiceCatalog,
    base_specs: dict[str, m.ServiceSpec],
    by_kind: dict[str, dict[str, tuple[_Source, Any]]],
    col: _Collector,
) -> Env | None:
    before = len(col.problems)
    spec = env.spec
    ef = env_src.file

    def at(*path: str | int) -> int:
        return env_src.doc.line_of(("spec", *path))

    release_entry = by_kind["Release"].get(spec.release)
    if release_entry is None:
        col.add(ef, at("release"), ("spec", "release"), f"release {spec.release!r} is not defined",
                _choices("releases", by_kind["Release"]))
    cluster_entry = by_kind["Cluster"].get(spec.cluster)
    if cluster_entry is None:
        col.add(ef, at("cluster"), ("spec", "cluster"), f"cluster {spec.cluster!r} is not defined",
                _choices("clusters", by_kind["Cluster"]))
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
                    _close(svc, catalog.spec.services))
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
            if loc and loc[0] in o:
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
                    _close(svc_spec.placement.pool, cluster.spec.node_pools))
            invalid.add(name)
            continue
        assert ref is not None
        if svc_spec.secrets and spec.esc is None:
            file, line = locate(("secrets",))
            col.add(file, line, (*prefix, "secrets"), f"{name} reads secrets but the environment names no ESC environment",
                    "set spec.esc (organization, environment) in the environment file")
        for var, ref_ in svc_spec.secrets.items():
            if LLM_KEY_NAMES.match(var) or ref_.key.startswith("llm."):
                file, line = locate(("secrets", var))
                col.add(file, line, (*prefix, "secrets", var), f"LLM provider key {var} outside the LLM gateway",
                        "only the gateway holds provider keys: drop the secret and set `callsLlm: true`")
        if svc_spec.expose is not None and (spec.domain is None or spec.tls is None):
            file, line = locate(("expose",))
            col.add(file, line, (*prefix, "expose"), f"{name} is exposed but the environment has no domain and tls",
                    "set spec.domain and spec.tls (ACME e-mail) in the environment file, or remove expose")
        elif svc_spec.expose is not None and spec.domain is not None:
            exposed = f"{svc_spec.expose.host}.{spec.domain}"
            if len(exposed) > MAX_HOST:
                file, line = locate(("expose", "host"))
                col.add(file, line, (*prefix, "expose", "host"),
                        f"host {exposed!r} is {len(exposed)} characters, more than the {MAX_HOST} of a DNS name (Ingress host)",
                        "choose a shorter expose.host or spec.domain")
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
        if path and path[0] in o:
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
                        _close(dep.service, catalog.spec.services))
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
    return Env(name=env_name, spec=spec, cluster=cluster, services=services, file=ef, locate=locate_field)


_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([A-Za-z0-9.-]+)")
_HOST_PORT = re.compile(r"^([a-z0-9][a-z0-9.-]*):[0-9]{1,5}$")


def cluster_host(var: str, value: str, namespaces: frozenset[str] = frozenset()) -> str | None:
    """The in-cluster host a plain env value points at, if any (the importer applies the same test).

    In-cluster: a bare name (`redis`), a `.svc`/`.cluster.local` name, or `<name>.<namespace>` where
    the last label cannot be a public top-level domain (TLDs are letters only: `sophia-ai` is not one)
    or is a namespace of this environment.
    """
    match = _URL_HOST.match(value) or _HOST_PORT.match(value)
    host = match.group(1) if match else (value if var.upper().endswith(("_HOST", "_HOSTNAME", "_SERVER")) else None)
    if host is None or not host:
        return None
    labels = host.split(".")
    if len(labels) == 1:
        return None if host == "localhost" else host
    if host.endswith((".svc", ".svc.cluster.local", ".cluster.local")):
        return host
    if len(labels) == 2 and (not labels[1].isalpha() or labels[1] in namespaces):
        return host
    return None


def _choices(what: str, entries: dict[str, Any]) -> str:
    return f"defined {what}: " + ", ".join(sorted(entries)) if entries else f"no {what} are defined"


def _close(name: str, options: Any) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else ""
