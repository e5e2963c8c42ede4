"""The diff engine: two `{path: text}` trees of dist/ -> a `DiffReport`. Pure: no git, no disk."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from sophia.diff.model import Change, DiffError, LabelChange, compare_trees, label_only, parse_tree, split_path
from sophia.diff.risks import Risk, find_risks

SERVICE_LABEL = "app.kubernetes.io/name"


@dataclass(frozen=True)
class Relabelled:
    """The objects of one service in one application whose only change is to their labels, as one line.

    An image bump changes the `app.kubernetes.io/version` label of every object of the service; only
    the workload changes otherwise, and only its diff is worth reading.
    """

    env: str
    app: str
    service: str
    count: int
    labels: tuple[LabelChange, ...]

    def describe(self) -> str:
        """`8 objects: only labels changed (app.kubernetes.io/version 1.2.3 -> 1.2.4)`."""
        shown = "; ".join(f"{k} {'unset' if a is None else a} -> {'unset' if b is None else b}" for k, a, b in self.labels)
        return f"{self.count} object{'s' if self.count != 1 else ''}: only labels changed ({shown})"


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

    def details(self, env: str, app: str) -> tuple[list[Change], list[Relabelled]]:
        """The changes of one application to show in full, and its label-only changes, one line per service.

        A change with a risk is always shown in full.
        """
        risky = {r.key for r in self.risks_of(env, app)}
        full: list[Change] = []
        groups: dict[str, list[tuple[LabelChange, ...]]] = {}  # service -> the label changes of each of its objects
        for change in self.changes_of(env, app):
            labels = label_only(change) if change.key not in risky else ()
            if labels:
                service = ((change.obj.manifest.get("metadata") or {}).get("labels") or {}).get(SERVICE_LABEL, "")
                groups.setdefault(str(service), []).append(labels)
            else:
                full.append(change)
        relabelled = [
            Relabelled(env, app, service, len(members), tuple(sorted({lc for labels in members for lc in labels}, key=_order)))
            for service, members in sorted(groups.items())
        ]
        return full, relabelled

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


def _order(change: LabelChange) -> tuple[str, str, str]:
    return change[0], change[1] or "", change[2] or ""


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
