"""`StatefulService`: a data service -- StatefulSet with volume claim templates, a headless
Service for stable pod names, a client Service, ServiceAccount, ConfigMap and PodDisruptionBudget.

The two Services carry the same labels but for `HEADLESS_LABEL` on the headless one, so that a
Service selector can pick the client Service alone (`extensions/service_monitor.py` does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct
from sophia.constructs._workload_props import HEADLESS_LABEL

__all__ = ["HEADLESS_LABEL", "StatefulService"]

if TYPE_CHECKING:
    from sophia.k8s.apps_v1 import StatefulSet, StatefulSetSpec
    from sophia.k8s.core_v1 import PersistentVolumeClaim


def _claims(p: w.WorkloadProps) -> list[PersistentVolumeClaim]:
    return [
        {
            "metadata": {"name": name, "labels": p.selector},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": vol.storage_class,
                "resources": {"requests": {"storage": vol.size}},
            },
        }
        for name, vol in p.spec.volumes.items()
    ]


class StatefulService(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        for manifest in w.companions(p, "StatefulSet"):
            self._emit(folder, manifest)
        spec: StatefulSetSpec = {
            "serviceName": f"{p.name}-headless",
            "selector": {"matchLabels": p.selector},
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate"},
            "revisionHistoryLimit": 5,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": w.pod_template(p, claims=True),
            "volumeClaimTemplates": _claims(p),
        }
        if p.spec.autoscaling is None:
            spec["replicas"] = p.spec.replicas
        sts: StatefulSet = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": p.meta(annotations=w.workload_annotations(p)),
            "spec": spec,
        }
        self._emit(folder, sts)
        if p.spec.ports:
            self._emit(folder, w.service(p, headless=True))
            self._emit(folder, w.service(p))
