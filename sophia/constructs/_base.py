"""What every sophia construct shares: a cdk8s `Construct` that holds plain manifests.

Each construct crosses into the jsii runtime exactly once (when it is created, so it takes its
place in the construct tree). Its Kubernetes objects are built as plain Python dicts on the
Python side, each typed as the TypedDict of its kind (`sophia.k8s`, imported under `TYPE_CHECKING`
only: mypy checks every field name and type, and nothing is imported at run time), and rendered
to text as they are emitted; `sophia.render` collects the texts without another crossing. This
keeps synth time linear and close to the cost of writing YAML (see ARCHITECTURE.md, "Speed").
`RenderedNode` is the Python side of that tree: sophia's constructs and the application charts
(`application_chart.ApplicationChart`) are its nodes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from constructs import Construct

from sophia import yamlout

if TYPE_CHECKING:
    from sophia.constructs.patching import PatchRegistry
    from sophia.k8s.meta_v1 import ObjectMeta

Manifest = Mapping[str, object]
"""Any Kubernetes object. Constructs build the TypedDict of its kind (`Deployment`, `Service`, ...), which
mypy checks field by field; every TypedDict is a `Mapping[str, object]`, so `_emit` takes them all."""

PART_OF = "sophia"
MANAGED_BY = "sophia"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SKIP_DRY_RUN = {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"}
"""On objects of add-on CRDs: Argo CD may sync them before the add-on's CRD exists, then retries."""


@dataclass(frozen=True)
class Origin:
    """Where a person defined an object (a hand-written manifest's file and line, an extension's
    file), for the problem reported when it clashes with another object; sophia's own objects have none."""

    file: str
    line: int | None
    what: str
    """What defined it, as a message names it: "a hand-written manifest", "the extension ..."."""


Rendered = tuple[str, str, "Origin | None"]
"""(path under dist/, text, origin) of one emitted object."""


class RenderedNode:
    """A node of the Python-side tree: the texts it rendered, and its children that are nodes too."""

    _rendered: list[Rendered]
    _sophia_children: list[RenderedNode]
    _parent: RenderedNode | None
    patch_registry: PatchRegistry | None = None
    """The patches of the objects emitted below this node (set on application charts)."""

    def _attach(self, scope: object) -> None:
        """Start empty and join `scope`'s children (called once, from the construct's __init__)."""
        self._rendered = []
        self._sophia_children = []
        self._parent = scope if isinstance(scope, RenderedNode) else None
        if self._parent is not None:
            self._parent._sophia_children.append(self)

    def patches(self) -> PatchRegistry | None:
        """The registry of the nearest application chart above (or at) this node."""
        node: RenderedNode | None = self
        while node is not None:
            if node.patch_registry is not None:
                return node.patch_registry
            node = node._parent
        return None

    def drain_rendered(self) -> Iterator[Rendered]:
        """Every (path, text, origin) of this node and its children, in creation order, released as yielded."""
        rendered, self._rendered = self._rendered, []
        yield from rendered
        for child in self._sophia_children:
            yield from child.drain_rendered()

    def nodes(self) -> Iterator[RenderedNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self._sophia_children:
            yield from child.nodes()


class SophiaConstruct(RenderedNode, Construct):
    """A construct whose Kubernetes objects are plain dicts, rendered to text as they are emitted."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._attach(scope)

    def _emit(self, folder: str, manifest: Manifest, *, patchable: bool = True, origin: Origin | None = None) -> None:
        """Add one Kubernetes object, written under `folder` (relative to dist/) as `<Kind>-<name>.yaml`.

        The services' `patches:` that target it are applied first (`patching`). The object is
        rendered now and only its text is kept: a large synth never holds every object as dicts at
        once (the dicts are several times the size of their text). `origin`: where a person wrote it.
        """
        registry = self.patches() if patchable else None
        if registry is not None:
            manifest = registry.apply(manifest)
        self._rendered.append((f"{folder}/{file_name(manifest)}", yamlout.dump(manifest), origin))


def file_name(manifest: Mapping[str, Any]) -> str:
    """`<Kind>-<name>.yaml`: one object per file, named after the object."""
    return f"{manifest['kind']}-{manifest['metadata']['name']}.yaml"


_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", re.ASCII)
LABEL_VALUE_MAX = 63


def label_value(text: str) -> str:
    """`text` as a Kubernetes label value: unchanged when it is one (at most 63 characters, letters and
    digits at both ends, `-_.` inside); otherwise its label characters, cut to fit, then `-` and 10 hex
    digits of its SHA-256. Deterministic, and different texts keep different values, so selectors derived
    from names (`<service>-<environment>`) stay unique. Image tags may be 128 characters and start with
    `_` or `.`; names composed of two 63-character names reach 127.
    """
    if len(text) <= LABEL_VALUE_MAX and _LABEL_VALUE.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    kept = re.sub(r"[^-A-Za-z0-9_.]", "-", text).strip("-_.")
    kept = kept[: LABEL_VALUE_MAX - len(digest) - 1].rstrip("-_.")
    return f"{kept}-{digest}" if kept else digest


def recommended_labels(
    *, name: str, component: str, instance: str | None = None, version: str | None = None
) -> dict[str, str]:
    """The Kubernetes recommended labels; platform objects with no instance or version omit those.

    Every value passes through `label_value`, so that no input the model accepts makes an invalid label.
    """
    labels = {"app.kubernetes.io/name": label_value(name)}
    if instance is not None:
        labels["app.kubernetes.io/instance"] = label_value(instance)
    if version is not None:
        labels["app.kubernetes.io/version"] = label_value(version)
    labels.update({
        "app.kubernetes.io/component": label_value(component),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    })
    return labels


def selector_labels(*, name: str, instance: str) -> dict[str, str]:
    """Selector labels: derived from names only, so a refactor can never change them (see `label_value`)."""
    return {"app.kubernetes.io/name": label_value(name), "app.kubernetes.io/instance": label_value(instance)}


def selector_pairs(*, name: str, instance: str) -> tuple[tuple[str, str], ...]:
    """`selector_labels` as sorted pairs, the form `NetworkAccess` peers take."""
    return tuple(sorted(selector_labels(name=name, instance=instance).items()))


def metadata(
    name: str,
    labels: Mapping[str, str],
    *,
    namespace: str | None = None,
    annotations: Mapping[str, str] | None = None,
    wave: int | None = None,
) -> ObjectMeta:
    meta: ObjectMeta = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    notes = dict(annotations or {})
    if wave is not None:
        notes[SYNC_WAVE] = str(wave)
    if notes:
        meta["annotations"] = notes
    return meta
