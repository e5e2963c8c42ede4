"""`WebService`: a stateless HTTP/API service -- Deployment, Service, ServiceAccount, ConfigMap,
and a HorizontalPodAutoscaler and PodDisruptionBudget where they apply."""

from __future__ import annotations

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct


class WebService(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = props
        for manifest in (*w.companions(props, "Deployment"), w.deployment(props), w.service(props)):
            self._emit(folder, manifest)
