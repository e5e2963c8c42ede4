"""What every sophia construct shares: a cdk8s `Construct` that holds plain manifests.

Each construct crosses into the jsii runtime exactly once (when it is created, so it takes its
place in the construct tree). Its Kubernetes objects are built as plain Python dicts and kept on
the Python side; `sophia.render` collects them without another crossing. This keeps synth time
linear and close to the cost of writing YAML (see ARCHITECTURE.md, "Speed").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from constructs import Construct

Manifest = dict[str, Any]

PART_OF = "sophia"
MANAGED_BY = "sophia"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SKIP_DRY_RUN = {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"}
"""On objects of add-on CRDs: Argo CD may sync them before the add-on's CRD exists, then retries."""


class SophiaConstruct(Construct):
    """A construct whose manifests are plain dicts, collected by `iter_manifests`."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._manifests: list[tuple[str, Manifest]] = []
        self._sophia_children: list[SophiaConstruct] = []
        if isinstance(scope, SophiaConstruct):
            scope._sophia_children.append(self)

    def _emit(self, folder: str, manifest: Manifest) -> Manifest:
        """Add one Kubernetes object, to be written under `folder` (relative to dist/)."""
        self._manifests.append((folder, manifest))
        return manifest

    def drain_manifests(self) -> Iterator[tuple[str, Manifest]]:
        """Like `iter_manifests`, releasing each manifest once yielded (rendering is the last use)."""
        while self._manifests:
            yield self._manifests.pop(0)
        for child in self._sophia_children:
            yield from child.drain_manifests()

    def iter_manifests(self) -> Iterator[tuple[str, Manifest]]:
        """Every (folder, manifest) of this construct and its sophia children, in creation order."""
        yield from self._manifests
        for child in self._sophia_children:
            yield from child.iter_manifests()


def recommended_labels(
    *, name: str, component: str, instance: str | None = None, version: str | None = None
) -> dict[str, str]:
    """The Kubernetes recommended labels; platform objects with no instance or version omit those."""
    labels = {"app.kubernetes.io/name": name}
    if instance is not None:
        labels["app.kubernetes.io/instance"] = instance
    if version is not None:
        labels["app.kubernetes.io/version"] = version
    labels.update({
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    })
    return labels


def selector_labels(*, name: str, instance: str) -> dict[str, str]:
    """Selector labels: derived from names only, so a refactor can never change them."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance}


def metadata(
    name: str,
    labels: dict[str, str],
    *,
    namespace: str | None = None,
    annotations: dict[str, str] | None = None,
    wave: int | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    notes = dict(annotations or {})
    if wave is not None:
        notes[SYNC_WAVE] = str(wave)
    if notes:
        meta["annotations"] = notes
    return meta
