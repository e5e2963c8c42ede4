"""`Worker`: a background Deployment. It gets a Service only when it declares ports."""

from __future__ import annotations

from sophia.constructs import _workload as w
from sophia.constructs.web_service import WebService


class WorkerProps(w.WorkloadProps):
    """Props of a `Worker` (all fields are those of `WorkloadProps`)."""


class Worker(WebService):
    """The same objects as a `WebService`, less the Service when nothing listens."""

    @staticmethod
    def _serves(props: w.WorkloadProps) -> bool:
        return bool(props.spec.ports)
