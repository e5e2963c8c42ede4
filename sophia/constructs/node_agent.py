"""`NodeAgent`: one pod on every node of its pool -- a DaemonSet, its ServiceAccount and ConfigMap,
and a Service only when it declares ports.

The pool is the service's placement: the pods have the pool's required node affinity and tolerate
every taint of the pool (or they would miss its tainted nodes). A node runs one pod at a time, so an
update replaces pods one node after another (maxUnavailable 1, no surge).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct

if TYPE_CHECKING:
    from sophia.k8s.apps_v1 import DaemonSet


class NodeAgent(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        for manifest in w.companions(p, "DaemonSet"):
            self._emit(folder, manifest)
        daemon_set: DaemonSet = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": p.meta(annotations=w.workload_annotations(p)),
            "spec": {
                "selector": {"matchLabels": p.selector},
                "revisionHistoryLimit": 5,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
                "template": w.pod_template(p),
            },
        }
        self._emit(folder, daemon_set)
        if p.spec.ports:
            self._emit(folder, w.service(p))
