"""The diff engine: two `{path: text}` trees of dist/ -> a `DiffReport`. Pure: no git, no disk."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sophia.diff.model import Change, DiffError, compare_trees, parse_tree, split_path
from sophia.diff.risks import Risk, find_risks


@dataclass(frozen=True)
class AppSummary:
    """Counts for one Argo CD application folder of one environment."""

    env: str
    app: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    risks: int = 0


@dataclass(frozen=True)
class DiffReport:
    """What changes between `old_label` (a git ref) and `new_label` (the working tree), and the risks."""

    old_label: str
    new_label: str
    changes: list[Change] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)

    @property
    def has_differences(self) -> bool:
        return bool(self.changes)

    def environments(self) -> list[str]:
        return sorted({c.env for c in self.changes} | {r.env for r in self.risks})

    def apps(self, env: str) -> list[str]:
        return sorted({c.app for c in self.changes if c.env == env} | {r.app for r in self.risks if r.env == env})

    def changes_of(self, env: str, app: str) -> list[Change]:
        return [c for c in self.changes if (c.env, c.app) == (env, app)]

    def risks_of(self, env: str, app: str | None = None) -> list[Risk]:
        return [r for r in self.risks if r.env == env and (app is None or r.app == app)]

    def summary(self) -> list[AppSummary]:
        """One row per (environment, application) that has a change or a risk."""
        rows = []
        for env in self.environments():
            for app in self.apps(env):
                mine = self.changes_of(env, app)
                rows.append(AppSummary(env, app, sum(c.status == "added" for c in mine), sum(c.status == "changed" for c in mine),
                                       sum(c.status == "removed" for c in mine), len(self.risks_of(env, app))))
        return rows


def select(files: Mapping[str, str], environments: Collection[str]) -> dict[str, str]:
    """Only the files of the given environments (top-level folders); all of them when none is given."""
    if not environments:
        return dict(files)
    return {p: t for p, t in files.items() if split_path(p)[0] in environments}


def compare(
    old_files: Mapping[str, str],
    new_files: Mapping[str, str],
    *,
    environments: Collection[str] = (),
    old_label: str = "a",
    new_label: str = "b",
    old_prefix: str = "a/",
    new_prefix: str = "b/",
) -> DiffReport:
    """Compare two dist trees (`{path relative to dist: text}`), object by object, and flag the risks."""
    if environments:
        known = {split_path(p)[0] for p in [*old_files, *new_files]}
        unknown = sorted(set(environments) - known)
        if unknown:
            raise DiffError(f"unknown environment(s): {', '.join(unknown)} (known: {', '.join(sorted(known - {''})) or 'none'})")
    old = parse_tree(select(old_files, environments), prefix=old_prefix)
    new = parse_tree(select(new_files, environments), prefix=new_prefix)
    changes = compare_trees(old, new, old_prefix=old_prefix, new_prefix=new_prefix)
    return DiffReport(old_label, new_label, changes, find_risks(old, new, changes))
