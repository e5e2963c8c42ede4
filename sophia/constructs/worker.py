"""`Worker`: a background Deployment. It gets a Service only when it declares ports."""

from __future__ import annotations

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct
from sophia.constructs.web_service import deployment


class WorkerProps(w.WorkloadProps):
    """Props of a `Worker` (all fields are those of `WorkloadProps`)."""


class Worker(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: WorkerProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self._emit(folder, w.service_account(props))
        for optional in (w.config_map(props), w.autoscaler(props, "Deployment"), w.disruption_budget(props)):
            if optional is not None:
                self._emit(folder, optional)
        self._emit(folder, deployment(props))
        if props.spec.ports:
            self._emit(folder, w.service(props))
