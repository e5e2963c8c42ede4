"""Loading: the files of an environments folder -> validated, resolved `Platform`.

The only module that reads `environments/`. It parses each file with `yamlsafe` (lines kept),
validates it against `models`, screens every string for IP and secret literals (`values`), and
has each environment resolved (`environment`: overrides layered onto the catalogue, image
versions from the release, every cross-reference checked). Every problem of the whole folder is
collected (`problems`) and raised together as one `SpecError`.
"""

from __future__ import annotations

import os
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from sophia.errors import SpecError
from sophia.model import manifests
from sophia.model import models as m
from sophia.model.cluster_checks import check_cluster
from sophia.model.environment import resolve_environment
from sophia.model.platform import Env, Platform, Service
from sophia.model.problems import Collector, Source, defined_names, read_documents, type_name
from sophia.values import host_ips, keyed_strings, secret_problem

__all__ = ["MAX_FILES", "Env", "Platform", "Service", "load"]
"""`load` and what it returns (defined in `platform`): what the rest of sophia reads the input through."""

MAX_FILES = 500
"""Most YAML files one environments folder may hold."""


def _display(path: FsPath, root: FsPath) -> str:
    try:
        rel = path.resolve().relative_to(root.resolve().parent)
    except ValueError:
        return str(path)
    return rel.as_posix()


def _yaml_files(root: FsPath, col: Collector) -> list[FsPath]:
    if not root.is_dir():
        col.add(str(root), None, (), "the environments folder does not exist or is not a folder")
        return []
    paths = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if len(paths) > MAX_FILES:
        col.add(str(root), None, (), f"{len(paths)} YAML files, over the limit of {MAX_FILES}")
        return []
    return paths


def _read(paths: list[FsPath], root: FsPath, col: Collector) -> list[Source]:
    sources: list[Source] = []
    for path in paths:
        name = _display(path, root)
        docs = read_documents(path, name, col)
        if docs is None:
            continue
        if not docs:
            col.add(name, 1, (), "the file is empty", "remove it, or give it apiVersion, kind, metadata and spec")
            continue
        if len(docs) > 1:
            col.add(name, docs[1].start_line, (), "one definition per file, but this file holds several documents")
            continue
        sources.append(Source(name, docs[0]))
    return sources


def _parse(src: Source, col: Collector) -> m.Model | None:
    data = src.doc.data
    if not isinstance(data, dict):
        col.add(src.file, src.doc.start_line, (), f"the top level must be a mapping, not a {type_name(data)}")
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


def _guard_literals(sources: list[Source], col: Collector) -> None:
    """No IP address and no secret-looking literal anywhere in an environment file."""
    checked: list[tuple[Source, tuple[str | int, ...], tuple[str, str]]] = []
    for src in sources:
        for path, key, value in keyed_strings(src.doc.data):
            if not value:
                continue
            if "secrets" in path and path[-2:-1] != ("template",):
                continue  # ESC key paths, never secret values; an add-on secret's template is text, and is checked
            for address in host_ips(value):
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
            in_template = path[-2:-1] == ("template",)
            col.add(src.file, src.doc.line_of(path), path, f"secret literal: {problem[1]}",
                    "secrets live in Pulumi ESC: add `<name>: <system>.<field>` to this Secret's data and write "
                    "`{{ .<name> }}` here" if in_template else
                    "secrets live in Pulumi ESC: declare `secrets: {VAR: {key: <system>.<field>}}` on the service")


def load(root: str | os.PathLike[str]) -> Platform:
    """Load and resolve every definition under `root`; raise `SpecError` listing all problems."""
    root_path = FsPath(root)
    col = Collector()
    paths = _yaml_files(root_path, col)
    sources = _read([p for p in paths if not manifests.is_manifest(p, root_path)], root_path, col)
    hand_written = manifests.read([p for p in paths if manifests.is_manifest(p, root_path)], root_path, _display, col)
    parsed = [(src, obj) for src in sources if (obj := _parse(src, col)) is not None]
    _guard_literals([*sources, *(src for _, _, src in hand_written)], col)
    by_kind = _by_kind(parsed, col)
    for cluster_src, cluster in by_kind["Cluster"].values():
        check_cluster(cluster_src, cluster, col)

    catalogs = by_kind["ServiceCatalog"]
    if len(catalogs) != 1 and not col.problems:
        col.add(str(root_path), None, (), f"expected exactly one ServiceCatalog, found {len(catalogs)}")
    if not catalogs:
        raise SpecError(col.problems)
    cat_src, catalog = next(iter(catalogs.values()))
    base_specs = _catalogue_services(cat_src, catalog, col)

    envs: dict[str, Env] = {}
    for env_name, (env_src, env) in sorted(by_kind["Environment"].items()):
        resolved = resolve_environment(env_name, env_src, env, cat_src, catalog, base_specs, by_kind, col)
        if resolved is not None:
            envs[env_name] = resolved

    if not by_kind["Environment"] and not col.problems:
        col.add(str(root_path), None, (), "no Environment is defined")
    _check_promotions(by_kind["Environment"], col)
    envs = manifests.attach(envs, hand_written, set(by_kind["Environment"]), col)
    if col.problems:
        raise SpecError(col.problems)
    return Platform(catalog=catalog, environments=envs, files=[s.file for s in sources])


def _by_kind(parsed: list[tuple[Source, m.Model]], col: Collector) -> dict[str, dict[str, tuple[Source, Any]]]:
    """Every definition by kind and name, with its file; a name defined twice is a problem."""
    by_kind: dict[str, dict[str, tuple[Source, Any]]] = {k: {} for k in m.KINDS}
    for src, obj in parsed:
        kind = type(obj).__name__
        seen = by_kind[kind]
        name = obj.metadata.name  # type: ignore[attr-defined]
        if name in seen:
            col.add(src.file, src.doc.line_of(("metadata", "name")), ("metadata", "name"),
                    f"{kind} {name!r} is defined twice (also in {seen[name][0].file})")
            continue
        seen[name] = (src, obj)
    return by_kind


NAME_LIMITS: dict[str, tuple[int, str]] = {
    "cronjob": (52, "Kubernetes names each run's Job <name>-<minutes since epoch>, and a Job's name is at most 63 "
                    "characters; choose a shorter name"),
    "stateful": (52, "the StatefulSet's headless Service is <name>-headless (at most 63 characters) and Kubernetes "
                     "labels each pod with <name>-<revision hash> (at most 63); choose a shorter name"),
}
"""Service types whose objects' names Kubernetes derives longer names from: (most characters, why)."""


def _catalogue_services(cat_src: Source, catalog: m.ServiceCatalog, col: Collector) -> dict[str, m.ServiceSpec]:
    """The catalogue must be complete on its own: every entry is a valid service (shared by every
    environment that does not override it)."""
    base_specs: dict[str, m.ServiceSpec] = {}
    for name, raw in catalog.spec.services.items():
        prefix: tuple[str | int, ...] = ("spec", "services", name)
        if not isinstance(raw, dict):
            col.add(cat_src.file, cat_src.doc.line_of(prefix), prefix, f"a service must be a mapping, not a {type_name(raw)}")
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
        _main_container_name(cat_src, name, base_specs[name], col)
    return base_specs


def _main_container_name(cat_src: Source, name: str, spec: m.ServiceSpec, col: Collector) -> None:
    """No init container or sidecar takes the main container's name, the service's (environments cannot
    change either, so the catalogue is where to look)."""
    for field, containers in (("initContainers", spec.init_containers), ("sidecars", spec.sidecars)):
        for i, container in enumerate(containers):
            if container.name == name:
                path = ("spec", "services", name, field, i, "name")
                col.add(cat_src.file, cat_src.doc.line_of(path), path,
                        f"container name {name!r} is the main container's (named like the service): Kubernetes refuses "
                        "two containers of one name in a pod", "rename the container")


def _check_promotions(environments: dict[str, tuple[Source, Any]], col: Collector) -> None:
    """An environment is promoted from another environment that exists, through a branch of its own."""
    branches: dict[str, str] = {}
    for name, (_src, env) in sorted(environments.items()):
        if env.spec.promotion is None:
            branches.setdefault(env.spec.source.target_revision, name)
    for name, (src, env) in sorted(environments.items()):
        promotion = env.spec.promotion
        if promotion is None:
            continue
        path = ("spec", "promotion", "from")
        if promotion.from_ == name:
            col.add(src.file, src.doc.line_of(path), path, "an environment cannot be promoted from itself")
        elif promotion.from_ not in environments:
            col.add(src.file, src.doc.line_of(path), path, f"environment {promotion.from_!r} is not defined",
                    defined_names("environments", {n: None for n in environments if n != name}))
        branch = promotion.deploy_branch(name)
        where = ("spec", "promotion", "branch") if promotion.branch else ("spec", "promotion")
        if branch in branches:
            col.add(src.file, src.doc.line_of(where), where,
                    f"deploy branch {branch!r} is already followed by environment {branches[branch]!r}: "
                    "a promoted environment needs a branch of its own, which only the promote workflow moves")
        branches.setdefault(branch, name)
