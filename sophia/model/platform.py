"""What loading returns: the `Platform` of an environments folder, each `Env` resolved, each `Service`
as one environment runs it. Plain frozen data; `loader.load` builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sophia.model import models as m


@dataclass(frozen=True)
class LocatedPatch:
    """One `patches:` entry of a service, with where it is written (for errors and the summary)."""

    patch: m.ObjectPatch
    file: str
    path: str
    """Its field path, e.g. `spec.services.backend.patches[0]`."""
    target_line: int
    operation_lines: tuple[int, ...]


@dataclass(frozen=True)
class Service:
    """A service as one environment runs it."""

    name: str
    spec: m.ServiceSpec
    image: str
    version: str
    namespace: str
    source: str
    patches: tuple[LocatedPatch, ...] = ()
    """The catalogue's patches, then the environment's (the same as `spec.patches`, located)."""


@dataclass(frozen=True)
class HandWritten:
    """One object of a hand-written manifest file (`environments/manifests/<env>/<application>/`)."""

    file: str
    line: int
    """The line of its `metadata.name`."""
    data: dict[str, Any]


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
    locate_spec: Callable[..., tuple[str, int]] = field(repr=False, compare=False, default=lambda *a: ("", 0))
    """locate_spec(*field_path) -> (file, line) of spec.<field_path> in the environment file (llmGateway, ...)."""
    manifests: dict[str, tuple[HandWritten, ...]] = field(default_factory=dict)
    """Hand-written objects by application, written into its folder as they are."""


@dataclass
class Platform:
    """Everything in an environments folder."""

    catalog: m.ServiceCatalog
    environments: dict[str, Env]
    files: list[str] = field(default_factory=list)
