"""`StatefulService`: a data service -- StatefulSet with volume claim templates, a headless
Service for stable pod names, a client Service, ServiceAccount, ConfigMap and PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct


def _claims(p: w.WorkloadProps) -> list[dict[str, Any]]:
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
        spec: dict[str, Any] = {
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
        self._emit(folder, {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": p.meta(annotations=w.workload_annotations(p)),
            "spec": spec,
        })
        if p.spec.ports:
            self._emit(folder, w.service(p, headless=True))
            self._emit(folder, w.service(p))
