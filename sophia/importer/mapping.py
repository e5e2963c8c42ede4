"""Mapping: compose service definitions -> catalogue entries, release tags, flags and notes.

Every definition is mapped the same way (so every file's hazards are reported), then definitions
that share an image repository are merged into one service: the first definition met supplies the
content, the others are listed as duplicates. Dependencies are resolved last, once every service
has its final name and ports.
"""

from __future__ import annotations

import math
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sophia.importer.compose import ComposeFile, ComposeService, Interpolated, collect_defaults, interpolate, scalar
from sophia.importer.report import KINDS, Definition, Flag, Note, Report
from sophia.model.models import LLM_VARIABLES, URL_PATH
from sophia.values import (
    ENV_NAME,
    HOST_VARIABLE_SUFFIXES,
    IMAGE_REPOSITORY,
    IMAGE_TAG,
    LLM_PROVIDER_KEY,
    cluster_host,
    ipv4_literals,
    memory_bytes,
    millicores,
    replace_ipv4,
)

APPLICATION = "imported"
POOL = "imported-default"
GPU_POOL = "imported-gpu"
UNPINNED_TAG = "0.0.0-unpinned"
"""The clearly marked default tag of an image whose version the compose files do not pin."""
DEFAULT_GPU_MODEL = "GH200"
DEFAULT_VOLUME_SIZE = "10Gi"
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
DEFAULT_LIMITS = {"cpu": "1", "memory": "1Gi"}
NO_PROBE_REASON = "compose gave no healthcheck and no port: imported as it ran there, restarted only when it exits"

_LOOPBACK = {"127.0.0.1", "0.0.0.0"}
REGISTRY = IMAGE_REPOSITORY
"""A registry with an optional namespace (`ghcr.io/acme`) has the shape of a repository."""
_URL = re.compile(r"^(?:jdbc:)?([a-z][a-z0-9+.-]*)://(?:([^@/\s]*)@)?([A-Za-z0-9_.-]+)(?::([0-9]+))?(/[^?#\s]*)?([?#].*)?$")
_SENSITIVE = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|SECRETS|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|KEY|CREDENTIALS?|DSN)(_|$)"
)
_LLM_PROVIDERS = {"OPENAI": "openai", "ANTHROPIC": "anthropic", "GROQ": "groq", "MISTRAL": "mistral-ai",
                  "TOGETHER": "together-ai", "PERPLEXITY": "perplexity-ai", "OPENROUTER": "openrouter"}
_SHELL_META = re.compile(r"[|&;<>$`()*?\\\"']")
_DURATION = re.compile(r"([0-9.]+)(ms|us|ns|h|m|s)")
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?$", re.IGNORECASE)

WEAK_VALUES = frozenset({
    "changeme", "change-me", "change_me", "admin", "password", "passwd", "secret", "sophia_password", "postgres",
    "root", "default", "test", "example", "123456", "12345678", "qwerty", "letmein", "sophia", "pass",
})
"""Values a password must never have (compared case-insensitively)."""

KNOWN_PORTS: dict[int, tuple[str, str]] = {
    5432: ("postgres", "postgresql"),
    6379: ("redis", "redis"),
    3306: ("mysql", "mysql"),
    27017: ("mongodb", "mongodb"),
    5672: ("amqp", "amqp"),
    1025: ("smtp", "smtp"),
    443: ("https", "https"),
}
"""Well-known container ports: (port name, URL scheme)."""

KNOWN_IMAGES: dict[str, dict[str, Any]] = {
    "postgres": {"port": 5432, "component": "database", "scratch": ["/var/run/postgresql"]},
    "pgvector/pgvector": {"port": 5432, "component": "database", "scratch": ["/var/run/postgresql"]},
    "redis": {"port": 6379, "component": "cache", "scratch": []},
    "weaviate/weaviate": {"port": 8080, "component": "database", "scratch": [], "node_name_vars": ["CLUSTER_HOSTNAME"]},
    "semitechnologies/weaviate": {"port": 8080, "component": "database", "scratch": [], "node_name_vars": ["CLUSTER_HOSTNAME"]},
}
"""Images whose port and role we know when a compose file does not say."""


class _Ref(NamedTuple):
    """An env value that names another service: a URL, or a bare host in a `*_HOST` variable."""

    env: str
    host: str
    scheme: str
    port: int | None
    exact: bool
    """Just scheme://host:port, which a dependency carries as it is."""
    text: str
    where: str | None = None
    """The file holding the host, or None for the definition's own file."""
    path: str | None = None
    """The URL's path when a dependency can carry it (no credentials, query or `jdbc:`)."""
    form: str = "url"
    """url; host for a bare host name; host-port for `host:port`."""


@dataclass
class _Mapped:
    """One definition after mapping, before merging and dependency resolution."""

    src: ComposeService
    name: str
    repository: str | None = None
    tag: str | None = None
    entry: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    refs: list[_Ref] = field(default_factory=list)
    llm: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    host_ports: list[int] = field(default_factory=list)
    final: str | None = None
    unpinned: str | None = None
    """What the tag was when it is not a version (`latest`, `no tag`, `${IMAGE_TAG}`)."""
    build: str | None = None
    """How the image is built (`context ., dockerfile X`) when the definition has `build:` and no `image:`."""
    carried: set[str] = field(default_factory=set)
    """Env vars of the compose file that became dependencies (their value now comes from the edge)."""
    settled: bool = False
    """A definition without an image whose fate is decided (flagged as not imported)."""
    registry_variable: bool = False
    """Whether the image's registry part was a variable (the project's own images are parameterised so)."""
    aliases: tuple[str, ...] = ()
    """Other names the definition is known by: container_name, hostname, network aliases, Traefik routers."""

    def flag(self, kind: str, detail: str) -> None:
        assert kind in KINDS, kind
        self.flags.append(Flag(self.src.file, self.src.name, kind, detail))

    def note(self, kind: str, detail: str) -> None:
        self.notes.append(Note(self.src.file, self.src.name, kind, detail))

    @property
    def blocking(self) -> list[str]:
        return sorted({f.kind for f in self.flags if KINDS[f.kind][0]})

    @property
    def blocking_strict(self) -> list[str]:
        return sorted({f.kind for f in self.flags if KINDS[f.kind][1]})


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


def normalise_name(name: str) -> str:
    """A compose service name as a DNS-1035 label (`ai_memory_v2` -> `ai-memory-v2`)."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    out = re.sub(r"-{2,}", "-", out)
    if not out or not out[0].isalpha():
        out = "svc-" + out
    return out[:63].rstrip("-")


def is_sensitive(name: str) -> bool:
    """Whether an env var name looks like it holds a secret (a `*_FILE` path does not)."""
    upper = name.upper()
    if upper.endswith("_FILE"):
        return False
    return bool(_SENSITIVE.search(upper))


def esc_key(service: str, name: str) -> str:
    """The Pulumi ESC path of a secret: `<service>.<name>` in lower case with `_` (`ai_memory.openai_api_key`)."""

    def part(text: str) -> str:
        out = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "value"
        return out if out[0].isalpha() else "s_" + out

    return f"{part(service)}.{part(name)}"


def is_weak(value: str) -> bool:
    """A well-known weak password or placeholder."""
    low = value.strip().lower()
    return low in WEAK_VALUES or "changeme" in low or low.endswith("_password")


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
    ip_owners = _ip_owners(files)
    hosts = {ip: f for f in files for ip in f.host_ips}
    context = _Context(inferred, ip_owners, hosts)

    mapped: list[_Mapped] = []
    by_file_defs: dict[str, list[_Mapped]] = {}
    for f in files:
        file_defs = [_map_definition(s, f, context) for s in f.services]
        by_file_defs[f.file] = file_defs
        mapped.extend(file_defs)

    services: dict[str, dict[str, Any]] = {}
    tags: dict[str, str] = {}
    primaries: dict[str, _Mapped] = {}
    duplicates: dict[str, list[str]] = {}
    used: set[str] = set()
    _make_services([m for m in mapped if m.repository is not None], services, tags, primaries, duplicates, used)

    fragments, built = _merge_fragments(mapped, duplicates, final=False)
    if built:
        registry = registry or _project_registry(mapped)
        files_by_name = {f.file: f for f in files}
        for m in built:
            _map_built(m, files_by_name[m.src.file], context, registry)
        _make_services(built, services, tags, primaries, duplicates, used)
    fragments += _merge_fragments(mapped, duplicates, final=True)[0]  # fragments of services built from source
    for file_defs in by_file_defs.values():
        _port_clashes(file_defs)

    by_file: dict[str, dict[str, _Mapped]] = {}
    for m in mapped:
        by_file.setdefault(m.src.file, {})[m.src.name] = m
    for prim in primaries.values():
        _resolve_dependencies(prim, by_file, services)
    _break_cycles(primaries, services)
    for name, prim in primaries.items():
        _guard_cluster_addresses(prim, services[name])

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


@dataclass(frozen=True)
class _Context:
    """What mapping one definition may know about the whole import."""

    inferred: dict[str, str]
    """Variables with one default across the import (`${DOCKER_REGISTRY:-scoobyjava15}` -> scoobyjava15)."""
    ip_owners: dict[str, str]
    hosts: dict[str, ComposeFile]


def _make_services(
    members_in: list[_Mapped], services: dict[str, dict[str, Any]], tags: dict[str, str],
    primaries: dict[str, _Mapped], duplicates: dict[str, list[str]], used: set[str],
) -> None:
    """Merge definitions by image repository into services (the first definition with a probe leads)."""
    groups: dict[str, list[_Mapped]] = {}
    for m in members_in:
        assert m.repository is not None
        groups.setdefault(m.repository, []).append(m)
    for repo, members in groups.items():
        members.sort(key=lambda m: not m.entry.get("probes"))  # stable: the first definition with a probe leads
        first = members[0]
        final = _unique_name(first, repo, used)
        used.add(final)
        for m in members:
            m.final = final
        primaries[final] = first
        services[final] = first.entry
        tags[final] = _pick_tag(members)
        if len(members) > 1:
            where = [f"{m.src.file}:{m.src.name}" for m in members]
            duplicates[final] = where
            for m in members:
                others = ", ".join(w for w in where if w != f"{m.src.file}:{m.src.name}")
                m.note("duplicate-merged", f"same image repository {repo} as {others}")
            tag_set = sorted({m.tag for m in members if m.tag})
            if len(tag_set) > 1:
                first.note("tag-conflict", f"tags differ between duplicates ({', '.join(tag_set)}); release uses {tags[final]}")
        if first.src.name != final:
            first.note("name-normalised", f"compose name {first.src.name!r} written as {final!r}")
        old, new = esc_key(first.name, "x")[:-2], esc_key(final, "x")[:-2]
        for ref in first.entry.get("secrets", {}).values():
            if ref["key"].startswith(old + "."):
                ref["key"] = new + ref["key"][len(old):]


def _project_registry(mapped: list[_Mapped]) -> str | None:
    """The registry the compose files push their own images to: the one prefix of every image whose
    registry part is a variable (`${DOCKER_REGISTRY:-scoobyjava15}/sophia-ai`), when they agree."""
    prefixes = {m.repository.rsplit("/", 1)[0] for m in mapped
                if m.repository and m.registry_variable and "/" in m.repository and "image-unresolved" not in m.blocking}
    return next(iter(prefixes)) if len(prefixes) == 1 else None


def is_override_file(file: str) -> bool:
    """Compose's override convention: `docker-compose.override.yml`, `compose.override.yaml`, `x.override.yml`."""
    return bool(re.search(r"(^|[./])override\.ya?ml$", file.rsplit("/", 1)[-1]))


def _merge_fragments(
    mapped: list[_Mapped], duplicates: dict[str, list[str]], *, final: bool
) -> tuple[list[_Mapped], list[_Mapped]]:
    """Merge fragments and build-only twins onto the service they belong to; return (fragments, built).

    A fragment is a definition without `image:` that is either in an override file (compose merges those
    onto the base file by service name) or has no `build:` either (compose cannot run it alone). It is
    merged when its normalised name is the name or an alias (container_name, hostname, network alias,
    Traefik router) of definitions elsewhere in the import that all landed in one service. Its own
    settings are reported, never applied: they are development overrides (hot-reload mounts, debug
    env and ports) of a service the base file defines.

    A `build:`-only definition in a standalone file whose name is that of one imported service is that
    service built from source: it is merged as a duplicate (the service's image is deployed). Any other
    `build:`-only definition is returned in `built`: it becomes a service of its own whose image CI builds.

    Called twice: first (`final=False`) against the services that name their image, returning the
    definitions to build; then (`final=True`), once those are services too, for the fragments left,
    which match them or are flagged.
    """
    by_name: dict[str, set[str]] = {}
    by_alias: dict[str, set[str]] = {}
    for m in mapped:
        if m.final is not None:
            by_name.setdefault(normalise_name(m.src.name), set()).add(m.final)
            for alias in m.aliases:
                by_alias.setdefault(alias, set()).add(m.final)
    standalone_builds = {m.name for m in mapped if m.repository is None and m.build is not None
                         and not is_override_file(m.src.file)}
    merged: list[_Mapped] = []
    built: list[_Mapped] = []
    for m in mapped:
        if m.repository is not None or m.final is not None or m.settled:
            continue
        has_build = m.build is not None
        fragment = is_override_file(m.src.file) or not has_build
        finals = sorted(by_name.get(m.name, set()))
        via = f"same name {m.name!r}"
        if not finals and fragment:
            finals = sorted(by_alias.get(m.name, set()))
            via = f"{m.name!r} is how that service is also known (container name, host name, network alias or Traefik router)"
        if len(finals) == 1:
            m.final = finals[0]
            duplicates.setdefault(m.final, [])
            if fragment:
                merged.append(m)
                duplicates[m.final].append(f"{m.src.file}:{m.src.name} (override fragment)")
                m.note("fragment-merged", f"no image: an override fragment of {m.final} ({via} elsewhere in the "
                       "import); counted with that service, its own settings are not applied" + _fragment_settings(m.src.raw))
            else:
                duplicates[m.final].append(f"{m.src.file}:{m.src.name} (built from source)")
                m.note("built-twin-merged", f"only `build:` ({m.build}), and {m.final} is imported under the same name "
                       f"with an image: taken as that service built from source; {m.final}'s image is deployed and "
                       "this definition's settings are not applied" + _fragment_settings(m.src.raw))
            continue
        ambiguous = len(finals) > 1
        if not final and not ambiguous:
            if has_build and (not fragment or m.name not in standalone_builds):
                built.append(m)  # a service of its own, built from source
            continue  # else possibly a fragment of a service built from source: the final pass decides
        why = (f"; definitions named {m.name!r} landed in several services ({', '.join(finals)}), so it is ambiguous"
               if ambiguous else "")
        m.settled = True
        if has_build:
            m.flag("build-without-image", "only `build:` is given, no image to deploy: not imported" + why)
        else:
            m.flag("no-image", "no `image:` and no `build:`, and no service of that name has an image: "
                   "not imported" + why)
    return merged, built


def _fragment_settings(raw: dict[str, Any]) -> str:
    parts: list[str] = []
    env = [k for k, _ in _env_items(raw)]
    if env:
        parts.append("env " + ", ".join(env))
    ports = [_parse_port(p)[3] for p in raw.get("ports") or []]
    if ports:
        parts.append("ports " + ", ".join(ports))
    for key in ("command", "entrypoint", "build"):
        if key in raw:
            parts.append(f"{key} {raw[key]!r}" if key != "build" else "build (the base's image is deployed)")
    return " (" + "; ".join(parts) + ")" if parts else ""


def _unique_name(first: _Mapped, repo: str, used: set[str]) -> str:
    candidates = [first.name, normalise_name(repo.rsplit("/", 1)[-1])]
    for c in candidates:
        if c not in used:
            if c != first.name:
                first.note("name-clash", f"{first.name!r} is taken by another image; written as {c!r}")
            return c
    n = 2
    while f"{first.name}-{n}" in used:
        n += 1
    first.note("name-clash", f"{first.name!r} is taken by another image; written as {first.name}-{n!s}")
    return f"{first.name}-{n}"


def _pick_tag(members: list[_Mapped]) -> str:
    real = [m.tag for m in members if m.tag and m.tag != "latest" and IMAGE_TAG.fullmatch(m.tag)]
    if not real:
        return UNPINNED_TAG
    counts = Counter(real)
    best = max(counts.values())
    return next(t for t in real if counts[t] == best)


# ---------------------------------------------------------------------------------------------
# One definition


def _map_definition(src: ComposeService, cfile: ComposeFile, ctx: _Context) -> _Mapped:
    m = _Mapped(src, normalise_name(src.name))
    raw = src.raw
    m.aliases = _aliases(raw)
    if "image" not in raw or raw.get("image") in (None, ""):
        if raw.get("build") is not None:
            m.build = _describe_build(raw["build"])
        _volumes(m, raw, cfile)  # host mounts are flagged even when the definition is a fragment or dropped
        _scan_ips(m, raw, ctx.ip_owners, set())
        return m  # fragment, twin or built from source: decided once every definition is known
    if "build" in raw:
        m.note("build-ignored", "`build:` ignored; the stated image is deployed")
    _image(m, raw["image"], ctx.inferred)
    _map_body(m, cfile, ctx)
    return m


def _map_built(m: _Mapped, cfile: ComposeFile, ctx: _Context, registry: str | None) -> None:
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


def _map_body(m: _Mapped, cfile: ComposeFile, ctx: _Context) -> None:
    """Everything but the image: ports, volumes, env, secrets, probes, resources, GPUs, placement."""
    src, raw = m.src, m.src.raw
    entry = m.entry
    entry["application"] = APPLICATION
    known = KNOWN_IMAGES.get(m.repository or "", {})
    entry["component"] = known.get("component", "service")
    entry["description"] = f"Imported from {src.file} (compose service {src.name})"
    entry["image"] = {"repository": m.repository}
    ports = _ports(m, raw, known)
    scratch, volumes = _volumes(m, raw, cfile)
    reported_ips: set[str] = set()
    env, secrets = _environment(m, raw, ctx.ip_owners, ctx.hosts, reported_ips)
    _swarm_secrets(m, raw, secrets)
    probes = _healthcheck(m, raw, ports)
    exec_probe = any("exec" in probe for probe in probes.values())
    _command(m, raw, env, secrets, reported_ips, exec_probe)
    if not probes and ports:
        first = next(iter(ports))
        probes = {"liveness": {"tcp": {"port": first}}, "readiness": {"tcp": {"port": first}}}
        m.note("probe-defaulted", f"no health check; a TCP probe on port {first} was written")
    entry["resources"] = _resources(m, raw)
    gpu = _gpu(m, raw)
    entry["replicas"] = _replicas(m, raw)
    entry["placement"] = {"pool": GPU_POOL if gpu else POOL}
    _placement_notes(m, raw)
    _security(m, raw)
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
    m.depends_on = _depends_on(raw)
    _scan_ips(m, raw, ctx.ip_owners, reported_ips)


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


def _image(m: _Mapped, value: Any, inferred: dict[str, str]) -> None:
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


# ---------------------------------------------------------------------------------------------
# Ports


def _parse_port(item: Any) -> tuple[int | None, str, int | None, str]:
    """(container port, protocol, published host port, text) of one `ports:` entry."""
    if isinstance(item, dict):
        target = scalar(item.get("target")).text
        published = scalar(item.get("published")).text if item.get("published") is not None else ""
        proto = scalar(item.get("protocol", "tcp")).text.lower()
        return _int(target), "UDP" if proto == "udp" else "TCP", _int(published.split("-")[0]), f"{published}:{target}"
    text = scalar(item).text
    proto = "TCP"
    if "/" in text:
        text, p = text.rsplit("/", 1)
        proto = "UDP" if p.lower() == "udp" else "TCP"
    parts = text.split(":")
    container = parts[-1].split("-")[0]
    host = parts[-2].split("-")[0] if len(parts) >= 2 else ""
    return _int(container), proto, _int(host), text


def _int(text: str) -> int | None:
    try:
        value = int(str(text).strip())
    except ValueError:
        return None
    return value if 1 <= value <= 65535 else None


def _port_entry(ports: dict[str, dict[str, Any]], port: int, proto: str = "TCP", scheme: str | None = None) -> str:
    for name, p in ports.items():
        if p["port"] == port and p.get("protocol", "TCP") == proto:
            return name
    if proto == "UDP":
        name, sch = f"udp-{port}", "udp"
    elif port in KNOWN_PORTS:
        name, sch = KNOWN_PORTS[port]
    elif "http" not in ports:
        name, sch = "http", "http"
    else:
        name, sch = f"http-{port}", "http"
    if name in ports:
        name = f"p-{port}"
    entry: dict[str, Any] = {"port": port}
    if proto == "UDP":
        entry["protocol"] = "UDP"
    sch = scheme or sch
    if sch != "http":
        entry["scheme"] = sch if sch != "udp" else "http"
    ports[name] = entry
    return name


def _ports(m: _Mapped, raw: dict[str, Any], known: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ports: dict[str, dict[str, Any]] = {}
    for item in list(raw.get("ports") or []) + list(raw.get("expose") or []):
        container, proto, host, text = _parse_port(item)
        if container is None:
            m.note("port-skipped", f"port {text!r} has no usable container port")
            continue
        _port_entry(ports, container, proto)
        if host is not None and item not in (raw.get("expose") or []):
            m.host_ports.append(host)
    if not ports and known.get("port"):
        _port_entry(ports, int(known["port"]))
        m.note("port-inferred", f"no ports given; {known['port']} is the image's well-known port")
    return ports


def _port_clashes(defs: list[_Mapped]) -> None:
    seen: dict[int, _Mapped] = {}
    for d in defs:
        for hp in sorted(set(d.host_ports)):
            other = seen.get(hp)
            if other is None:
                seen[hp] = d
                continue
            d.flag("port-clash", f"host port {hp} is also published by {other.src.name}")
            other.flag("port-clash", f"host port {hp} is also published by {d.src.name}")


# ---------------------------------------------------------------------------------------------
# Volumes


def _volumes(m: _Mapped, raw: dict[str, Any], cfile: ComposeFile) -> tuple[list[str], dict[str, dict[str, Any]]]:
    scratch: list[str] = []
    volumes: dict[str, dict[str, Any]] = {}
    for item in raw.get("volumes") or []:
        if isinstance(item, dict):
            vtype = str(item.get("type", "volume"))
            source = scalar(item.get("source", "")).text
            target = scalar(item.get("target", "")).text
            read_only = bool(item.get("read_only"))
        else:
            parts = scalar(item).text.split(":")
            if len(parts) == 1:
                source, target, mode = "", parts[0], ""
            else:
                source, target = parts[0], parts[1]
                mode = parts[2] if len(parts) > 2 else ""
            read_only = "ro" in mode.split(",")
            vtype = "bind" if source.startswith(("/", ".", "~", "$")) else ("volume" if source else "anonymous")
        if not target.startswith("/"):
            m.note("volume-skipped", f"volume {item!r} has no absolute target")
            continue
        if vtype == "tmpfs" or vtype == "anonymous" or (vtype == "volume" and not source):
            scratch.append(target)
        elif vtype == "bind":
            if source.endswith("docker.sock"):
                m.flag("docker-socket", f"{source} mounted at {target}: not imported")
            elif read_only or _looks_like_file(target):
                m.flag("host-bind-mount", f"host path {source} -> {target} left out (read-only or a file; the image's own content is used)")
            else:
                m.flag("host-bind-mount", f"host path {source} -> {target} replaced by a scratch emptyDir")
                scratch.append(target)
        else:
            vname = normalise_name(source)
            if vname in volumes:
                vname = f"{vname}-{len(volumes)}"
            volumes[vname] = {"mountPath": target, "size": DEFAULT_VOLUME_SIZE}
            m.note("volume-size-defaulted", f"named volume {source} -> {target}: size {DEFAULT_VOLUME_SIZE} (compose gives none)")
            if source not in cfile.volumes:
                m.note("volume-undeclared", f"volume {source} is not declared under top-level volumes")
    return scratch, volumes


def _looks_like_file(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in last and not last.startswith(".")


# ---------------------------------------------------------------------------------------------
# Environment, secrets, command


def _env_items(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    env = raw.get("environment")
    items: list[tuple[str, Any]] = []
    if isinstance(env, dict):
        items = [(str(k), v) for k, v in env.items()]
    elif isinstance(env, list):
        for entry in env:
            text = str(entry)
            if "=" in text:
                k, v = text.split("=", 1)
                items.append((k.strip(), v))
            else:
                items.append((text.strip(), None))
    return items


def _environment(
    m: _Mapped, raw: dict[str, Any], ip_owners: dict[str, str], hosts: dict[str, ComposeFile], reported: set[str]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    env: dict[str, str] = {}
    secrets: dict[str, dict[str, str]] = {}
    if raw.get("env_file"):
        m.note("env-file-not-read", "env_file is not read (its values are not known to the import)")
    for name, value in _env_items(raw):
        if not ENV_NAME.fullmatch(name):
            m.note("env-skipped", f"{name!r} is not a valid env var name")
            continue
        if name == "ENVIRONMENT":
            m.note("env-reserved", f"ENVIRONMENT={value} not imported: sophia sets it to the environment's name")
            continue
        iv = scalar(value) if value is not None else Interpolated(f"${{{name}}}", (name,))
        url = _URL.match(iv.text.strip())
        creds = bool(url and url.group(2) and ":" in url.group(2))
        ips = ipv4_literals(iv.text)
        if LLM_PROVIDER_KEY.fullmatch(name):
            _secret_flags(m, name, value, iv, creds)
            m.entry["callsLlm"] = True
            m.llm.append(_LLM_PROVIDERS.get(name.split("_")[0], "openrouter"))
            m.note("llm-key-to-gateway", f"{name} not imported: the service calls the LLM gateway (callsLlm), which holds provider keys")
            continue
        if is_sensitive(name) or creds:
            secrets[name] = {"key": esc_key(m.name, name)}
            _secret_flags(m, name, value, iv, creds)
            if url and not ips:
                m.refs.append(_Ref(name, url.group(3), url.group(1), _int(url.group(4) or ""), False, iv.text))
            continue
        exact = url is not None and _exact_url(url, iv.text)
        if ips:
            reported.update(ips)
            kept = _ip_env(m, name, iv.text, url, exact, ips, ip_owners, hosts)
            if kept is None:
                continue
            env[name] = kept
            continue
        if url is not None:
            m.refs.append(_Ref(name, url.group(3), url.group(1), _int(url.group(4) or ""), exact, iv.text,
                               path=_carried_path(url, iv.text)))
        elif not iv.unresolved and name.upper().endswith(HOST_VARIABLE_SUFFIXES) and "." not in iv.text.strip():
            host = cluster_host(name, iv.text.strip())
            if host is not None:
                port = _int(iv.text.strip().rsplit(":", 1)[1]) if ":" in iv.text else None
                m.refs.append(_Ref(name, host, "", port, True, iv.text, form="host-port" if port else "host"))
        if iv.unresolved and iv.text.strip() == f"${{{iv.unresolved[0]}}}":
            secrets[name] = {"key": esc_key(m.name, name)}
            m.flag("env-from-esc", f"{name} is ${{{iv.unresolved[0]}}}, a value the deploy shell supplied: it is read "
                   f"from ESC at {secrets[name]['key']} (set it there per environment)")
            continue
        if iv.unresolved:
            m.flag("env-unresolved", f"{name} needs ${{{', '.join(iv.unresolved)}}}, which is unset; left out")
            continue
        env[name] = iv.text
    if m.entry.get("callsLlm"):
        for name in LLM_VARIABLES:
            if env.pop(name, None) is not None:
                m.note("env-reserved", f"{name} not imported: callsLlm sets it to the LLM gateway's address and routing")
    return env, secrets


def _carried_path(url: re.Match[str], text: str) -> str | None:
    """The path of a URL a dependency can carry (`ws://backend:8000/ws` -> `/ws`), or None."""
    path = url.group(5)
    if not path or url.group(2) is not None or url.group(6) or text.strip().startswith("jdbc:"):
        return None
    return path if URL_PATH.fullmatch(path) else None


def _exact_url(url: re.Match[str], text: str) -> bool:
    """Whether a URL is just scheme://host:port, which a dependency can carry (redis' `/0` is its default db)."""
    path = (url.group(5) or "").strip("/")
    if url.group(1) in ("redis", "rediss") and path == "0":
        path = ""
    return not path and not url.group(6) and not text.strip().startswith("jdbc:")


def _local_ip(ip: str) -> bool:
    return ip == "0.0.0.0" or ip.startswith("127.")


def _ip_env(
    m: _Mapped, name: str, text: str, url: re.Match[str] | None, exact: bool, ips: list[str],
    owners: dict[str, str], hosts: dict[str, ComposeFile],
) -> str | None:
    """An env value holding IP literals: the value to keep (possibly rewritten), or None when left out."""
    if all(_local_ip(ip) for ip in ips):
        m.flag("ip-unresolved", f"{name}={text}: {', '.join(_describe_ip(ip) for ip in ips)}; sophia refuses IP "
               "literals in env, so it was left out: check what the service binds to without it")
        return None
    if url is not None and len(ips) == 1 and url.group(3) == ips[0] and ips[0] in hosts:
        target = _published_by(hosts[ips[0]], _int(url.group(4) or "") or (443 if url.group(1) == "https" else 80))
        if target is not None:
            svc, container = target
            host_file = hosts[ips[0]]
            m.refs.append(_Ref(name, svc, url.group(1), container, exact, text, host_file.file,
                               path=_carried_path(url, text)))
            m.flag("ip-literal", f"{name}={text}: {ips[0]} is the host of {host_file.file} "
                   f"({host_file.host_ips[ips[0]]}), where port {url.group(4) or 'default'} is published by {svc}: "
                   "it became a reference to that service")
            return text.replace(ips[0], svc, 1)
    for ip in ips:
        m.flag("ip-unresolved", f"{name}={text}: {ip} is {_owner(ip, owners)}, and no service of the import answers "
               "there: the variable was left out (set the upstream by hand, as a dependency)")
    return None


def _published_by(cfile: ComposeFile, host_port: int) -> tuple[str, int] | None:
    """The one service of `cfile` publishing `host_port` on its host, and its container port."""
    found: list[tuple[str, int]] = []
    for s in cfile.services:
        for item in s.raw.get("ports") or []:
            container, _proto, host, _text = _parse_port(item)
            if host == host_port and container is not None:
                found.append((s.name, container))
    return found[0] if len(found) == 1 else None


def _secret_flags(m: _Mapped, name: str, value: Any, iv: Interpolated, creds: bool) -> None:
    for var, default in iv.defaults:
        if default:
            why = "a well-known weak value" if is_weak(default) else "committed in the file, so known to every reader"
            m.flag("weak-default", f"{name}: the default of ${{{var}}} is {why}; it became an ESC reference")
    raw_text = "" if value is None else str(value)
    if "$" in raw_text or not raw_text:
        if creds:
            url = _URL.match(iv.text.strip())
            password = (url.group(2) or "").split(":", 1)[1] if url else ""
            if password and "${" not in password:
                m.flag("secret-literal", f"{name}: a URL with a literal password; it became an ESC reference")
                if is_weak(password):
                    m.flag("weak-default", f"{name}: the password in the URL is a well-known weak value")
        return
    m.flag("secret-literal", f"{name} is written literally; it became an ESC reference")
    check = raw_text
    url = _URL.match(raw_text.strip())
    if url and url.group(2) and ":" in url.group(2):
        check = url.group(2).split(":", 1)[1]
    if is_weak(check):
        m.flag("weak-default", f"{name}: the literal value is a well-known weak value")


def _swarm_secrets(m: _Mapped, raw: dict[str, Any], secrets: dict[str, dict[str, str]]) -> None:
    for item in raw.get("secrets") or []:
        if isinstance(item, dict):
            source = str(item.get("source", ""))
            target = str(item.get("target", source))
        else:
            source = target = str(item)
        if not source:
            continue
        key = re.sub(r"[^A-Za-z0-9_]", "_", source).upper()
        if not re.match(r"^[A-Z_]", key):
            key = "S_" + key
        if key in secrets:
            key += "_FILE"
        mount = target if target.startswith("/") else f"/run/secrets/{target}"
        secrets[key] = {"key": esc_key(m.name, source), "mountPath": mount}
        m.note("swarm-secret", f"swarm secret {source} -> ESC {esc_key(m.name, source)}, mounted at {mount}")


def _command(
    m: _Mapped, raw: dict[str, Any], env: dict[str, str], secrets: dict[str, dict[str, str]], reported: set[str],
    exec_probe: bool,
) -> None:
    for key, field_name in (("entrypoint", "command"), ("command", "args")):
        value = raw.get(key)
        if value is None:
            continue
        argv = shlex.split(str(value)) if isinstance(value, str) else [str(v) for v in value]
        out: list[str] = []
        dropped = False
        for arg in argv:
            iv = interpolate(arg)
            text = iv.text
            for var in iv.unresolved:
                text = text.replace(f"${{{var}}}", f"$({var})")
                if is_sensitive(var):
                    secrets.setdefault(var, {"key": esc_key(m.name, var)})
                    m.note("command-secret", f"{key} uses ${{{var}}}: taken from ESC {esc_key(m.name, var)} as $({var})")
                elif var not in env and var not in secrets:
                    m.flag("env-unresolved", f"{key} uses ${{{var}}}, which is unset")
            ips = ipv4_literals(text)
            reported.update(ips)
            for ip in dict.fromkeys(ips):
                if ip.startswith("127.") and ip != DOCKER_DNS:
                    text = replace_ipv4(text, ip, "localhost")
                    m.flag("ip-literal", f"{key} holds {ip} (loopback, the same inside a pod): written as localhost")
                elif ip == "0.0.0.0" and not exec_probe:
                    text = replace_ipv4(text, ip, POD_IP_REF)
                    m.flag("ip-literal", f"{key} binds {ip} (all interfaces): written as {POD_IP_REF}, the pod's own "
                           "address, which is where the kubelet's http/tcp probes and the Service connect")
                elif ip == "0.0.0.0":
                    m.flag("ip-unresolved", f"{key} binds {ip} (all interfaces), and the health check is a command run "
                           f"inside the container, which may call loopback: {POD_IP_REF} would not do; the {key} was "
                           "left out")
                    dropped = True
                else:
                    m.flag("ip-unresolved", f"{key} holds {ip} ({_describe_ip(ip)}); the {key} was left out")
                    dropped = True
            out.append(text)
        if dropped:
            continue
        m.entry[field_name] = out


POD_IP_REF = "$(POD_IP)"
"""The pod's own address in a command (sophia defines POD_IP from the downward API when a command uses it)."""


DOCKER_DNS = "127.0.0.11"
"""Docker's embedded DNS server: there is no such address in a pod."""


def _describe_ip(ip: str) -> str:
    if ip == DOCKER_DNS:
        return "Docker's embedded DNS server, which a pod does not have"
    return "all interfaces" if ip == "0.0.0.0" else "loopback" if ip.startswith("127.") else "unknown"


# ---------------------------------------------------------------------------------------------
# Health checks


def _seconds(value: Any, default: int) -> int:
    if value is None:
        return default
    text = scalar(value).text
    total = 0.0
    found = False
    for number, unit in _DURATION.findall(text):
        found = True
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}[unit]
    if not found:
        return default
    return max(1, math.ceil(total))


def _healthcheck(m: _Mapped, raw: dict[str, Any], ports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    hc = raw.get("healthcheck")
    if not isinstance(hc, dict) or hc.get("disable") or "test" not in hc:
        return {}
    test = hc["test"]
    if isinstance(test, list):
        words = [scalar(t).text for t in test]
        if not words or words[0] == "NONE":
            return {}
        if words[0] == "CMD-SHELL":
            argv = _shell(" ".join(words[1:]))
        elif words[0] == "CMD":
            argv = words[1:]
        else:
            argv = words
    else:
        argv = _shell(scalar(test).text)
    if not argv:
        return {}
    check: dict[str, Any] = {}
    if argv[0] in ("curl", "wget"):
        for arg in argv[1:]:
            hm = re.match(r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::([0-9]+))?(/[^\s]*)?$", arg)
            if hm:
                port = int(hm.group(2) or (443 if arg.startswith("https") else 80))
                check = {"http": {"path": hm.group(3) or "/", "port": _port_entry(ports, port)}}
                break
    if not check:
        argv = [replace_ipv4(a, "127.0.0.1", "localhost") for a in argv]
        if any(ipv4_literals(a) for a in argv):
            m.note("probe-skipped", "the health check names an IP address; no probe written")
            return {}
        check = {"exec": argv}
    probe: dict[str, Any] = dict(check)
    probe["periodSeconds"] = _seconds(hc.get("interval"), 30)
    probe["timeoutSeconds"] = _seconds(hc.get("timeout"), 30)
    retries = _int(scalar(hc.get("retries")).text) if hc.get("retries") is not None else None
    probe["failureThreshold"] = retries or 3
    start = _seconds(hc.get("start_period"), 0) if hc.get("start_period") is not None else 0
    if start:
        probe["initialDelaySeconds"] = start
    return {"liveness": probe, "readiness": dict(probe)}


def _shell(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if _SHELL_META.search(text):
        return ["sh", "-c", text]
    return shlex.split(text)


# ---------------------------------------------------------------------------------------------
# Resources, GPUs, replicas, placement


def _cpu(value: Any) -> str | None:
    try:
        cores = float(scalar(value).text)
    except ValueError:
        return None
    milli = max(1, round(cores * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def _memory(value: Any) -> str | None:
    mm = _MEMORY.match(scalar(value).text.strip())
    if mm is None:
        return None
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[mm.group(2).lower()]
    size = float(mm.group(1)) * factor
    mib = math.ceil(size / 1024**2)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _section(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]` when it is a mapping, else an empty one (compose leaves sections out or malformed)."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _resources(m: _Mapped, raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    deploy = _section(raw, "deploy")
    res = _section(deploy, "resources")
    lim = _section(res, "limits")
    rsv = _section(res, "reservations")
    limits = {"cpu": _cpu(lim["cpus"]) if "cpus" in lim else (_cpu(raw["cpus"]) if "cpus" in raw else None),
              "memory": _memory(lim["memory"]) if "memory" in lim else (_memory(raw["mem_limit"]) if "mem_limit" in raw else None)}
    requests = {"cpu": _cpu(rsv["cpus"]) if "cpus" in rsv else None,
                "memory": _memory(rsv["memory"]) if "memory" in rsv
                else (_memory(raw["mem_reservation"]) if "mem_reservation" in raw else None)}
    defaulted: list[str] = []
    for k in ("cpu", "memory"):
        if requests[k] is None and limits[k] is not None:
            requests[k] = limits[k]  # Kubernetes' own rule: requests default to limits
        if requests[k] is None:
            requests[k] = DEFAULT_REQUESTS[k]
            defaulted.append(f"requests.{k}={DEFAULT_REQUESTS[k]}")
        if limits[k] is None:
            limits[k] = DEFAULT_LIMITS[k]
            defaulted.append(f"limits.{k}={DEFAULT_LIMITS[k]}")
    req_cpu, lim_cpu = str(requests["cpu"]), str(limits["cpu"])
    if millicores(lim_cpu) < millicores(req_cpu):
        limits["cpu"] = req_cpu
    if memory_bytes(str(limits["memory"])) < memory_bytes(str(requests["memory"])):
        limits["memory"] = requests["memory"]
    if defaulted:
        m.note("resources-defaulted", "compose gives none for " + ", ".join(defaulted))
    return {"limits": {k: str(v) for k, v in limits.items()}, "requests": {k: str(v) for k, v in requests.items()}}


def _gpu(m: _Mapped, raw: dict[str, Any]) -> dict[str, Any] | None:
    deploy = _section(raw, "deploy")
    res = _section(deploy, "resources")
    counts: list[int] = []
    for where, block in (("deploy.resources", res), ("deploy.resources.limits", res.get("limits"))):
        if not isinstance(block, dict) or "generic_resources" not in block:
            continue
        for spec in _gpu_specs(block["generic_resources"]):
            original = f"{where}.generic_resources: {spec.get('kind')}={spec.get('value')}"
            text = scalar(spec.get("value")).text
            if re.fullmatch(r"[0-9]+", text) and int(text) >= 1:
                counts.append(int(text))
                m.flag("invalid-gpu-spec", f"{original} is in the wrong place (swarm reads it only under "
                       f"deploy.resources.reservations), but the ask is unambiguous: {text} whole GPU(s) imported")
            else:
                m.flag("invalid-gpu", f"{original}: misplaced and not a whole number of GPUs: GPU not imported")
    rsv = _section(res, "reservations")
    for spec in _gpu_specs(rsv.get("generic_resources")):
        counts.extend(_gpu_count(m, spec.get("value"), "generic_resources value"))
    for dev in rsv.get("devices") or []:
        if not isinstance(dev, dict):
            continue
        caps = [str(c) for c in dev.get("capabilities") or []]
        if "gpu" not in caps and str(dev.get("driver", "")) != "nvidia":
            continue
        if "count" in dev:
            counts.extend(_gpu_count(m, dev["count"], "devices count"))
        elif dev.get("device_ids"):
            counts.append(len(dev["device_ids"]))
        else:
            m.flag("invalid-gpu", "a GPU device reservation without count or device_ids: GPU not imported")
    if raw.get("runtime") == "nvidia" and not counts:
        m.flag("invalid-gpu", "runtime: nvidia states no GPU count (docker exposes every GPU of the host): "
               "ambiguous, GPU not imported")
    if not counts:
        return None
    m.note("gpu-model-defaulted", f"compose names no GPU model; {DEFAULT_GPU_MODEL} assumed")
    return {"count": max(counts), "models": [DEFAULT_GPU_MODEL]}


def _gpu_specs(items: Any) -> list[dict[str, Any]]:
    """The GPU `discrete_resource_spec`s of a `generic_resources` list."""
    out: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        spec = item.get("discrete_resource_spec") if isinstance(item, dict) else None
        if isinstance(spec, dict) and "gpu" in str(spec.get("kind", "")).lower():
            out.append(spec)
    return out


def _gpu_count(m: _Mapped, value: Any, what: str) -> list[int]:
    text = scalar(value).text
    if re.fullmatch(r"[0-9]+", text) and int(text) >= 1:
        return [int(text)]
    why = " (every GPU of the host: no per-pod equivalent)" if text == "all" else ""
    m.flag("invalid-gpu", f"{what} {text!r} is not a whole number of GPUs{why}: ambiguous, GPU not imported")
    return []


def _replicas(m: _Mapped, raw: dict[str, Any]) -> int:
    deploy = _section(raw, "deploy")
    if deploy.get("mode") == "global":
        m.note("global-mode", "deploy.mode global (one per node) imported as 1 replica")
        return 1
    value = deploy.get("replicas", raw.get("scale"))
    if value is None:
        return 1
    iv = scalar(value)
    try:
        n = int(iv.text)
    except ValueError:
        m.note("replicas-defaulted", f"replicas {iv.text!r} is not a number; 1 used")
        return 1
    return max(n, 0)


def _placement_notes(m: _Mapped, raw: dict[str, Any]) -> None:
    deploy = _section(raw, "deploy")
    placement = _section(deploy, "placement")
    constraints = [str(c) for c in placement.get("constraints") or []]
    if constraints:
        m.note("placement-not-mapped", "swarm constraints " + "; ".join(constraints) + " -> node pool set by hand")


def _security(m: _Mapped, raw: dict[str, Any]) -> None:
    if raw.get("privileged"):
        m.flag("privileged", "privileged: true not imported (pods run restricted)")
    for key in ("network_mode", "pid", "ipc"):
        if str(raw.get(key, "")) == "host":
            m.flag("privileged", f"{key}: host not imported")
    if raw.get("cap_add"):
        m.flag("privileged", "cap_add " + ", ".join(str(c) for c in raw["cap_add"]) + " not imported")


def _depends_on(raw: dict[str, Any]) -> list[str]:
    dep = raw.get("depends_on")
    if isinstance(dep, dict):
        return [str(k) for k in dep]
    if isinstance(dep, list):
        return [str(k) for k in dep]
    return []


# ---------------------------------------------------------------------------------------------
# IP addresses


def _ip_owners(files: list[ComposeFile]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for f in files:
        for ip, comment in f.host_ips.items():
            owners.setdefault(ip, f"the host {f.file} was deployed on ({comment})")
        for s in f.services:
            nets = s.raw.get("networks")
            if isinstance(nets, dict):
                for cfg in nets.values():
                    if isinstance(cfg, dict) and cfg.get("ipv4_address"):
                        owners.setdefault(str(cfg["ipv4_address"]), f"service {s.name} of {f.file}")
            hosts = s.raw.get("extra_hosts")
            items = hosts.items() if isinstance(hosts, dict) else (str(h).split(":", 1) for h in hosts or [] if ":" in str(h))
            for host, ip in items:
                owners.setdefault(str(ip).strip(), f"host {str(host).strip()} (extra_hosts of {s.name})")
    return owners


def _owner(ip: str, owners: dict[str, str]) -> str:
    if ip in owners:
        return owners[ip]
    if ip in _LOOPBACK:
        return _describe_ip(ip)
    return "unknown: no service of the import has that address"


def _scan_ips(m: _Mapped, raw: Any, owners: dict[str, str], reported: set[str]) -> None:
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            found.update(ipv4_literals(interpolate(v).text))

    walk({k: v for k, v in raw.items() if k not in ("healthcheck",)})
    for ip in sorted(found - reported - {"0.0.0.0"}):
        m.note("ip-literal-unused", f"{ip} ({_owner(ip, owners)}) appears in a field that is not imported")


# ---------------------------------------------------------------------------------------------
# Dependencies


def _resolve_dependencies(m: _Mapped, by_file: dict[str, dict[str, _Mapped]], services: dict[str, dict[str, Any]]) -> None:
    entry = services[m.final or ""]
    file_defs = by_file[m.src.file]
    env: dict[str, str] = entry.get("env", {})
    secrets: dict[str, Any] = entry.get("secrets", {})
    deps: list[dict[str, str]] = []
    targets: set[str] = set()

    def target_of(host: str, where: str | None = None) -> tuple[str | None, _Mapped | None]:
        other = by_file[where].get(host) if where else file_defs.get(host)
        if other is None and where is None and host in services and host != m.final:
            # Not a service of this file, but exactly the name of an imported service (e.g. `prometheus`
            # in a file that expects the monitoring stack of another file on the same network).
            other = next((d for defs in by_file.values() for d in defs.values() if d.final == host), None)
            if other is not None:
                m.note("cross-file-reference", f"{host} is not a service of {m.src.file}; taken as the imported "
                       f"service {host} (same name)")
        if other is None or other is m:
            return None, None
        return other.final, other

    wanted: list[str] = []
    for ref in m.refs:
        name, host, scheme = ref.env, ref.host, ref.scheme
        final, other = target_of(host, ref.where)
        if other is None:
            continue
        if final is None:
            m.flag("dependency-not-imported", f"{name} points at {host}, which was not imported")
            continue
        if final == m.final:
            continue
        tentry = services[final]
        tports = tentry.setdefault("ports", {})
        first_port = next(iter(tports.values()))["port"] if tports else None
        port = ref.port or first_port or KNOWN_IMAGES.get(other.repository or "", {}).get("port")
        if port is None:
            m.note("dependency-skipped", f"{name} points at {host} without a port, and {final} has none")
            continue
        before = set(tports)
        pname = _port_entry(tports, port, scheme=scheme if scheme in ("redis", "postgresql", "mysql", "mongodb", "amqp") else None)
        if pname not in before:
            other_primary = tentry
            if other_primary.get("type") == "worker":
                other_primary["type"] = "web"
            m.note("port-added", f"{final} gets port {port} ({pname}) because {name} points at it")
        if name in env and ref.form in ("host", "host-port"):
            del env[name]
            deps.append({"env": name, "format": ref.form, "port": pname, "service": final})
            m.carried.add(name)
            targets.add(final)
            m.note("host-to-dependency", f"{name}={ref.text} became a dependency on {final} (format: {ref.form}; the "
                   f"network policy opens its port {pname})")
        elif name in env and (ref.exact or ref.path is not None):
            del env[name]
            edge = {"env": name, "port": pname, "service": final}
            own = tports[pname].get("scheme", "http")
            if scheme != own:
                edge["scheme"] = scheme
            if not ref.exact and ref.path is not None:
                edge["path"] = ref.path
            deps.append(edge)
            m.carried.add(name)
            targets.add(final)
            shown = f"{scheme}://{host}:{port}" + (edge.get("path") or "")
            m.note("url-to-dependency", f"{name}={shown} became a dependency on {final}")
        else:
            if name in env and host != final:
                env[name] = env[name].replace(f"://{host}", f"://{final}", 1)
            wanted.append(final)
            m.note("url-kept", f"{name} kept as written (credentials, a query or jdbc: a dependency URL cannot carry); "
                   f"dependency on {final} added for network access")
    for dep in m.depends_on:
        final, other = target_of(dep)
        if other is None:
            m.note("dependency-skipped", f"depends_on {dep}: no such service in {m.src.file}")
            continue
        if final is None:
            m.flag("dependency-not-imported", f"depends_on {dep}, which was not imported")
            continue
        wanted.append(final)
    taken = set(env) | set(secrets) | {d["env"] for d in deps}
    for final in dict.fromkeys(wanted):
        if final in targets or final == m.final:
            continue
        if not services[final].get("ports"):
            m.note("dependency-skipped", f"{final} has no ports, so a dependency cannot be declared")
            continue
        var = final.upper().replace("-", "_") + "_URL"
        if var in taken:
            var = final.upper().replace("-", "_") + "_SERVICE_URL"
        if var in taken:
            continue
        taken.add(var)
        targets.add(final)
        deps.append({"env": var, "service": final})
    if deps:
        entry["dependencies"] = deps
    if env:
        entry["env"] = env
    elif "env" in entry:
        del entry["env"]


def _guard_cluster_addresses(m: _Mapped, entry: dict[str, Any]) -> None:
    """Leave out plain env values that name an in-cluster host (a dependency must carry those)."""
    env: dict[str, str] = entry.get("env", {})
    node_name_vars = set(KNOWN_IMAGES.get(m.repository or "", {}).get("node_name_vars", []))
    deps = {d["service"] for d in entry.get("dependencies", [])}
    for var in sorted(env):
        host = cluster_host(var, env[var])
        if host is None:
            continue
        value = env.pop(var)
        if var in node_name_vars:
            m.note("node-name-dropped", f"{var}={value} is the image's cluster node name, not an address; left out "
                   "(it defaults to the pod's host name), because sophia reads a bare *_HOSTNAME value as an address")
        elif host in deps:
            m.flag("cluster-address", f"{var}={value}: a dependency on {host} gives network access, but its URL "
                   "cannot carry this path or scheme, so the variable was left out: set it by hand")
        else:
            m.flag("cluster-address", f"{var}={value} names {host!r}, which is no imported service: left out")
    if not env and "env" in entry:
        del entry["env"]


def _break_cycles(primaries: dict[str, _Mapped], services: dict[str, dict[str, Any]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        deps = services[node].get("dependencies", [])
        keep = []
        for d in deps:
            child = d["service"]
            if state.get(child) == 1:
                if d["env"] in primaries[node].carried:
                    primaries[node].flag("dependency-cycle-variable", f"dependency on {child} dropped: it closes a "
                                         f"cycle, and {d['env']}, which the compose file set, is lost with it")
                else:
                    primaries[node].flag("dependency-cycle", f"dependency on {child} dropped: it closes a cycle")
                continue
            if not state.get(child):
                visit(child)
            keep.append(d)
        if deps:
            if keep:
                services[node]["dependencies"] = keep
            else:
                del services[node]["dependencies"]
        state[node] = 2

    for name in sorted(services):
        if not state.get(name):
            visit(name)
