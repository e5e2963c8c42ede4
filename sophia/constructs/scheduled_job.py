"""`ScheduledJob`: a CronJob (no overlapping runs), its ServiceAccount and ConfigMap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct

if TYPE_CHECKING:
    from sophia.k8s.batch_v1 import CronJob


class ScheduledJob(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        schedule = p.spec.schedule
        assert schedule is not None, "ServiceSpec: a cronjob has a schedule"
        self._emit(folder, w.service_account(p))
        cm = w.config_map(p)
        if cm is not None:
            self._emit(folder, cm)
        cron: CronJob = {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": p.meta(annotations=w.workload_annotations(p)),
            "spec": {
                "schedule": schedule,
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 300,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "metadata": {"labels": p.labels},
                    "spec": {
                        "backoffLimit": 2,
                        "activeDeadlineSeconds": 3600,
                        "template": w.pod_template(p, restart_policy="OnFailure"),
                    },
                },
            },
        }
        self._emit(folder, cron)
