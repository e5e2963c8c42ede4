"""What a policy rule is: an id, a one-line explanation, a fix hint and a check over the resources.

The rule modules (`rules_pods`, `rules_values`, `rules_objects`) define rules with these; the
engine (`policy`) runs them and applies waivers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sophia.values import FieldPath

from .documents import Resource

Violation = tuple[Resource, FieldPath, str]


@dataclass(frozen=True)
class PolicyContext:
    """What a check may know beyond the resources: where the repository is, and its URLs (the policy rules and
    Argo CD's verdict read it)."""

    repo_root: Path | None = None
    repositories: frozenset[str] | None = None
    """The URLs Argo CD reads this repository by (from the environments' `source`); None: unknown."""


Check = Callable[[Sequence[Resource], PolicyContext], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    hint: str
    check: Check


def per_resource(check: Callable[[Resource], Iterable[tuple[FieldPath, str]]]) -> Check:
    """Lift a one-resource check to the set signature."""

    def run(resources: Sequence[Resource], _: PolicyContext) -> Iterable[Violation]:
        for resource in resources:
            if isinstance(resource.data, dict):
                for path, message in check(resource):
                    yield resource, path, message

    return run
