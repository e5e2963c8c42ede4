"""Mapping: compose service definitions -> catalogue entries, release tags, flags and notes.

Every definition is mapped the same way (so every file's hazards are reported), then definitions
that share an image repository are merged into one service: the first definition met supplies the
content, the others are listed as duplicates. Dependencies are resolved last, once every service
has its final name and ports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sophia.importer.addresses import find_ip_owners, note_unused_ips
from sophia.importer.compose import ComposeFile, ComposeService, collect_defaults, interpolate, scalar
from sophia.importer.dependencies import break_cycles, compose_depends_on, guard_cluster_addresses, resolve_dependencies
from sophia.importer.environment import command_and_args, env_and_secrets
from sophia.importer.mapped import APPLICATION, GPU_POOL, KNOWN_IMAGES, POOL, UNPINNED_TAG, Context, Mapped, normalise_name
from sophia.importer.merging import make_services, merge_fragments, project_registry
from sophia.importer.ports import flag_port_clashes, service_ports
from sophia.importer.probes import healthcheck_probes
from sophia.importer.report import Definition, Report
from sophia.importer.resources import flag_privileges, gpu_ask, note_placement, replicas_of, resources_of
from sophia.importer.secrets import swarm_secrets
from sophia.importer.volumes import service_volumes
from sophia.values import IMAGE_REPOSITORY, IMAGE_TAG

NO_PROBE_REASON = "compose gave no healthcheck and no port: imported as it ran there, restarted only when it exits"
REGISTRY = IMAGE_REPOSITORY
"""A registry with an optional namespace (`ghcr.io/acme`) has the shape of a repository."""


@dataclass
class ImportResult:
    """What the import produces: catalogue entries, release tags and the report."""

    services: dict[str, dict[str, Any]]
    tags: dict[str, str]
    report: Report
    unpinned: dict[str, list[str]] = field(default_factory=dict)
    """Service -> where its unpinned tag came from (`latest in file:service`), for the release comments."""
    llm_providers: list[str] = field(default_factory=list)

    @property
    def needs_gpu_pool(self) -> bool:
        return any("gpu" in s for s in self.services.values())


def import_files(files: list[ComposeFile], registry: str | None = None) -> ImportResult:
    """Map every service of `files` (in the given order) into one catalogue.

    `registry` is where images built from source (`build:` without `image:`) are pushed; None takes
    the one registry the compose files themselves parameterise their images with, when they agree.
    """
    defaults: dict[str, set[str]] = {}
    for f in files:
        for s in f.services:
            collect_defaults(s.raw, defaults)
    inferred = {k: next(iter(v)) for k, v in sorted(defaults.items()) if len(v) == 1}
    ip_owners = find_ip_owners(files)
    hosts = {ip: f for f in files for ip in f.host_ips}
    context = Context(inferred, ip_owners, hosts)

    mapped: list[Mapped] = []
    by_file_defs: dict[str, list[Mapped]] = {}
    for f in files:
        file_defs = [_map_definition(s, f, context) for s in f.services]
        by_file_defs[f.file] = file_defs
        mapped.extend(file_defs)

    services: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    primaries: dict[str, Mapped] = {}
    duplicates: dict[str, list[str]] = {}
    used: set[str] = set()
    make_services([m for m in mapped if m.repository is not None], services, tags, primaries, duplicates, used)

    fragments, built = merge_fragments(mapped, duplicates, final=False)
    if built:
        registry = registry or project_registry(mapped)
        files_by_name = {f.file: f for f in files}
        for m in built:
            _map_built(m, files_by_name[m.src.file], context, registry)
        make_services(built, services, tags, primaries, duplicates, used)
    fragments += merge_fragments(mapped, duplicates, final=True)[0]  # fragments of services built from source
    for file_defs in by_file_defs.values():
        flag_port_clashes(file_defs)

    by_file: dict[str, dict[str, Mapped]] = {}
    for m in mapped:
        by_file.setdefault(m.src.file, {})[m.src.name] = m
    for prim in primaries.values():
        resolve_dependencies(prim, by_file, services)
    break_cycles(primaries, services)
    for name, prim in primaries.items():
        guard_cluster_addresses(prim, services[name])

    unpinned: dict[str, list[str]] = {}
    definitions: list[Definition] = []
    for m in mapped:
        if m.final is None:
            definitions.append(Definition(m.src.file, m.src.name, None, False, m.blocking, False, "none"))
            continue
        prim = primaries[m.final]
        blocking = set(prim.blocking)
        strict = set(prim.blocking_strict) | set(m.blocking_strict)
        if tags[m.final] != UNPINNED_TAG:
            strict.discard("unpinned-image")
        elif m.unpinned is not None:
            unpinned.setdefault(m.final, []).append(f"{m.unpinned} in {m.src.file}:{m.src.name}")
        via = "fragment" if any(m is f for f in fragments) else ("own" if m is prim else "duplicate")
        definitions.append(Definition(m.src.file, m.src.name, m.final, not blocking, sorted(blocking),
                                      not strict and via != "fragment", via))

    report = Report(
        files=[f.file for f in files],
        definitions=definitions,
        flags=[fl for m in mapped for fl in m.flags],
        notes=[n for m in mapped for n in m.notes],
        duplicates=duplicates,
    )
    providers = sorted({p for prim in primaries.values() for p in prim.llm})
    return ImportResult(dict(sorted(services.items())), dict(sorted(tags.items())), report,
                        unpinned=dict(sorted(unpinned.items())), llm_providers=providers)


def _map_definition(src: ComposeService, cfile: ComposeFile, ctx: Context) -> Mapped:
    m = Mapped(src, normalise_name(src.name))
    raw = src.raw
    m.aliases = _aliases(raw)
    if "image" not in raw or raw.get("image") in (None, ""):
        if raw.get("build") is not None:
            m.build = _describe_build(raw["build"])
        service_volumes(m, raw, cfile)  # host mounts are flagged even when the definition is a fragment or dropped
        note_unused_ips(m, raw, ctx.ip_owners, set())
        return m  # fragment, twin or built from source: decided once every definition is known
    if "build" in raw:
        m.note("build-ignored", "`build:` ignored; the stated image is deployed")
    _image(m, raw["image"], ctx.inferred)
    _map_body(m, cfile, ctx)
    return m


def _map_built(m: Mapped, cfile: ComposeFile, ctx: Context, registry: str | None) -> None:
    """A `build:`-only definition that is a service of its own: its image is the one CI builds and pushes.

    The image is named by convention, `<registry>/sophia-<service>` (`sophia-` is not doubled), the
    convention of the project's own images; its version is the clearly marked unpinned default.
    """
    m.flags.clear()  # _map_body reports mounts and IPs again, with the rest
    m.notes.clear()
    stem = m.name if m.name.startswith("sophia-") else f"sophia-{m.name}"
    if registry is None:
        m.flag("image-unresolved", f"built from source ({m.build}), but the compose files name no registry their own "
               f"images are pushed to: placeholder set-me/{stem} written (give --registry)")
        m.repository = f"set-me/{stem}"
    else:
        m.repository = f"{registry}/{stem}"
        m.flag("image-from-build", f"built from source ({m.build}): CI must build and push {m.repository} "
               f"(the convention <registry>/sophia-<service>); pin its version in releases/")
    m.unpinned = "built from source"
    m.flag("unpinned-image", f"image {m.repository} is built from source, so no version is known; "
           f"release gets the marked default {UNPINNED_TAG}")
    _map_body(m, cfile, ctx)


def _map_body(m: Mapped, cfile: ComposeFile, ctx: Context) -> None:
    """Everything but the image: ports, volumes, env, secrets, probes, resources, GPUs, placement."""
    src, raw = m.src, m.src.raw
    entry = m.entry
    entry["application"] = APPLICATION
    known = KNOWN_IMAGES.get(m.repository or "", {})
    entry["component"] = known.get("component", "service")
    entry["description"] = f"Imported from {src.file} (compose service {src.name})"
    entry["image"] = {"repository": m.repository}
    ports = service_ports(m, raw, known)
    scratch, volumes = service_volumes(m, raw, cfile)
    reported_ips: set[str] = set()
    env, secrets = env_and_secrets(m, raw, ctx.ip_owners, ctx.hosts, reported_ips)
    swarm_secrets(m, raw, secrets)
    probes = healthcheck_probes(m, raw, ports)
    exec_probe = any("exec" in probe for probe in probes.values())
    command_and_args(m, raw, env, secrets, reported_ips, exec_probe)
    if not probes and ports:
        first = next(iter(ports))
        probes = {"liveness": {"tcp": {"port": first}}, "readiness": {"tcp": {"port": first}}}
        m.note("probe-defaulted", f"no health check; a TCP probe on port {first} was written")
    entry["resources"] = resources_of(m, raw)
    gpu = gpu_ask(m, raw)
    entry["replicas"] = replicas_of(m, raw)
    entry["placement"] = {"pool": GPU_POOL if gpu else POOL}
    note_placement(m, raw)
    flag_privileges(m, raw)
    if ports:
        entry["ports"] = ports
    if env:
        entry["env"] = env
    if secrets:
        entry["secrets"] = secrets
    if probes:
        entry["probes"] = probes
    else:
        entry["waivers"] = {"SOPHIA-PROBE-001": NO_PROBE_REASON}
        m.flag("no-probe", "no healthcheck and no port: written without probes, as compose ran it (restarted only "
               "when it exits), with a SOPHIA-PROBE-001 waiver saying so; add a health check when the image has one")
    if gpu:
        entry["gpu"] = gpu
    if volumes:
        entry["volumes"] = volumes
        entry["type"] = "stateful"
    else:
        entry["type"] = "web" if ports else "worker"
    base_scratch = ["/tmp", *known.get("scratch", [])]
    entry["scratch"] = sorted(dict.fromkeys([*base_scratch, *scratch]))
    m.depends_on = compose_depends_on(raw)
    note_unused_ips(m, raw, ctx.ip_owners, reported_ips)


def _describe_build(value: Any) -> str:
    """`build:` as one line for the report: `context ., dockerfile Dockerfile.backend, target development`."""
    if not isinstance(value, dict):
        return f"context {scalar(value).text}"
    parts = [f"context {scalar(value.get('context', '.')).text}"]
    for key in ("dockerfile", "target"):
        if value.get(key) is not None:
            parts.append(f"{key} {scalar(value[key]).text}")
    return ", ".join(parts)


_TRAEFIK_NAME = re.compile(r"^traefik\.(?:http|tcp|udp)\.(?:routers|services)\.([A-Za-z0-9_-]+)\.")


def _aliases(raw: dict[str, Any]) -> tuple[str, ...]:
    """Names a definition is also known by: container_name, hostname, network aliases, Traefik routers/services."""
    names: list[str] = []
    for key in ("container_name", "hostname"):
        if isinstance(raw.get(key), str):
            names.append(raw[key])
    networks = raw.get("networks")
    if isinstance(networks, dict):
        for net in networks.values():
            if isinstance(net, dict) and isinstance(net.get("aliases"), list):
                names.extend(str(a) for a in net["aliases"])
    labels = raw.get("labels")
    keys = list(labels) if isinstance(labels, dict) else [str(x).split("=", 1)[0] for x in labels or []]
    for key in keys:
        match = _TRAEFIK_NAME.match(str(key))
        if match:
            names.append(match.group(1))
    return tuple(dict.fromkeys(normalise_name(n) for n in names))


def _image(m: Mapped, value: Any, inferred: dict[str, str]) -> None:
    text = scalar(value).text.strip()
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    repo, tag = text, None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        repo, tag = text[:colon], text[colon + 1 :]
    written = str(value).strip()
    m.registry_variable = "/" in written and "${" in written.rsplit("/", 1)[0]
    if "${" in repo:  # the registry part only: a tag is never guessed
        again = interpolate(repo, inferred)
        used = [k for k, _ in again.defaults]
        if used:
            m.note("variable-inferred", ", ".join(f"${{{k}}} taken as {inferred[k]!r} (its default elsewhere in the import)" for k in used))
        repo = again.text
    if repo.startswith("docker.io/"):
        repo = repo[len("docker.io/") :]
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    if "${" in repo or not IMAGE_REPOSITORY.fullmatch(repo.lower()):
        m.flag("image-unresolved", f"image repository {repo!r} cannot be used; placeholder set-me/{m.name} written")
        repo = f"set-me/{m.name}"
    m.repository = repo.lower()
    if digest:
        m.note("digest-ignored", "an image digest was given; only the tag is imported")
    last = str(value).strip().rsplit("/", 1)[-1]
    last = last.split("@", 1)[0]
    as_written = last.split(":", 1)[1] if ":" in last else "no tag"  # `${IMAGE_TAG:-latest}`, not its value
    if tag is not None and "${" not in tag and tag != "latest" and not IMAGE_TAG.fullmatch(tag):
        m.flag("tag-invalid", f"image tag {tag!r} is not a valid tag; release gets {UNPINNED_TAG}")
        m.unpinned = as_written
    elif tag is None or "${" in tag or tag == "latest":
        m.unpinned = as_written
        m.flag("unpinned-image", f"image {m.repository} tag {as_written!r} is not a version; "
               f"release gets the marked default {UNPINNED_TAG}")
    else:
        m.tag = tag


