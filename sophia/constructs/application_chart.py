"""`ApplicationChart`: one folder of dist/ that one Argo CD Application syncs, as a cdk8s `Chart`.

Every folder Argo CD reads (`<env>/<application>`, `<env>/argocd`, `<env>/platform`,
`clusters/<cluster>/argocd`, ...) is a chart with the namespace its Application deploys to. sophia's
own constructs under it keep their objects on the Python side (`RenderedNode`: no jsii crossing per
object). Any other cdk8s construct placed under it -- an `ApiObject`, a cdk8s-plus construct,
`Include`, `Helm`, a class `cdk8s import` made from a CRD -- is synthesized by cdk8s itself
(`foreign_manifests`, one crossing per chart) and written to the same folder, one file per object.
"""

from __future__ import annotations

from typing import Any

import cdk8s
from constructs import Construct

from sophia.constructs._base import RenderedNode
from sophia.constructs.patching import PatchRegistry


class ApplicationChart(RenderedNode, cdk8s.Chart):
    """The chart of one Argo CD application's folder (`folder`, relative to dist/)."""

    def __init__(self, scope: Construct, id: str, *, folder: str, namespace: str | None = None) -> None:
        super().__init__(scope, id, namespace=namespace, disable_resource_name_hashes=True)
        self._attach(scope)
        self.folder = folder
        self.patch_registry = PatchRegistry(folder)
        self.extensions: dict[str, str] = {}
        """Name -> file of the extensions called with this chart (`sophia.extensions`), named when an
        object of theirs clashes with another (the one crossing per chart cannot say which added it)."""

    def foreign_manifests(self) -> list[dict[str, Any]]:
        """Every object cdk8s synthesizes in this chart: the ones sophia's constructs did not emit."""
        return [dict(manifest) for manifest in self.to_json()]
