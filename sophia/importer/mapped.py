"""One compose definition while it is mapped (`Mapped`, with its flags and notes), what mapping it may
know about the whole import (`Context`), and the names and defaults every step shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sophia.importer.compose import ComposeFile, ComposeService
from sophia.importer.report import KINDS, Flag, Note

APPLICATION = "imported"
POOL = "imported-default"
GPU_POOL = "imported-gpu"
UNPINNED_TAG = "0.0.0-unpinned"
"""The clearly marked default tag of an image whose version the compose files do not pin."""

KNOWN_IMAGES: dict[str, dict[str, Any]] = {
    "postgres": {"port": 5432, "component": "database", "scratch": ["/var/run/postgresql"]},
    "pgvector/pgvector": {"port": 5432, "component": "database", "scratch": ["/var/run/postgresql"]},
    "redis": {"port": 6379, "component": "cache", "scratch": []},
    "weaviate/weaviate": {"port": 8080, "component": "database", "scratch": [], "node_name_vars": ["CLUSTER_HOSTNAME"]},
    "semitechnologies/weaviate": {"port": 8080, "component": "database", "scratch": [], "node_name_vars": ["CLUSTER_HOSTNAME"]},
}
"""Images whose port and role we know when a compose file does not say."""


class Ref(NamedTuple):
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
class Mapped:
    """One definition after mapping, before merging and dependency resolution."""

    src: ComposeService
    name: str
    repository: str | None = None
    tag: str | None = None
    entry: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
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


@dataclass(frozen=True)
class Context:
    """What mapping one definition may know about the whole import."""

    inferred: dict[str, str]
    """Variables with one default across the import (`${DOCKER_REGISTRY:-scoobyjava15}` -> scoobyjava15)."""
    ip_owners: dict[str, str]
    hosts: dict[str, ComposeFile]


def normalise_name(name: str) -> str:
    """A compose service name as a DNS-1035 label (`ai_memory_v2` -> `ai-memory-v2`)."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    out = re.sub(r"-{2,}", "-", out)
    if not out or not out[0].isalpha():
        out = "svc-" + out
    return out[:63].rstrip("-")
