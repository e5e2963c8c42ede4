"""`WebService`: a stateless HTTP/API service -- Deployment, Service, ServiceAccount, ConfigMap,
and a HorizontalPodAutoscaler and PodDisruptionBudget where they apply."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct


class WebServiceProps(w.WorkloadProps):
    """Props of a `WebService` (all fields are those of `WorkloadProps`)."""


def deployment(p: w.WorkloadProps) -> dict[str, Any]:
    """A Deployment; GPU pods cannot surge a second pod onto a single-GPU node, so they replace."""
    spec: dict[str, Any] = {
        "selector": {"matchLabels": p.selector},
        "revisionHistoryLimit": 5,
        "template": w.pod_template(p),
    }
    if p.spec.autoscaling is None:
        spec["replicas"] = p.spec.replicas
    if p.gpu_count:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    else:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": p.meta(annotations=w.workload_annotations(p)),
        "spec": spec,
    }


class WebService(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: WebServiceProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self._emit(folder, w.service_account(props))
        for optional in (w.config_map(props), w.autoscaler(props, "Deployment"), w.disruption_budget(props)):
            if optional is not None:
                self._emit(folder, optional)
        self._emit(folder, deployment(props))
        if self._serves(props):
            self._emit(folder, w.service(props))

    @staticmethod
    def _serves(props: w.WorkloadProps) -> bool:
        """A web service always has a Service (it has ports by definition)."""
        return True
