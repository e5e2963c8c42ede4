"""What loading returns: the `Platform` of an environments folder, each `Env` resolved, each `Service`
as one environment runs it. Plain frozen data; `loader.load` builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sophia.model import models as m


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
    locate_spec: Callable[..., tuple[str, int]] = field(repr=False, compare=False, default=lambda *a: ("", 0))
    """locate_spec(*field_path) -> (file, line) of spec.<field_path> in the environment file (llmGateway, ...)."""


@dataclass
class Platform:
    """Everything in an environments folder."""

    catalog: m.ServiceCatalog
    environments: dict[str, Env]
    files: list[str] = field(default_factory=list)
