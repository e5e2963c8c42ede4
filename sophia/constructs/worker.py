"""`Worker`: a background Deployment, its ServiceAccount, ConfigMap, HorizontalPodAutoscaler and
PodDisruptionBudget where they apply, and a Service only when it declares ports."""

from __future__ import annotations

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct


class Worker(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = props
        for manifest in (*w.companions(props, "Deployment"), w.deployment(props)):
            self._emit(folder, manifest)
        if props.spec.ports:
            self._emit(folder, w.service(props))
