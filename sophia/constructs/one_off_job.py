"""`OneOffJob`: a Job that runs to completion on each sync of its application -- with its
ServiceAccount and ConfigMap.

The Job is an Argo CD `Sync` hook, in the wave that puts it between what it needs and what needs it:

* after the applications it depends on: its `dependencies` order the applications' waves;
* in wave -1 (`WAVE_JOB`), before the application's Deployments, StatefulSets and DaemonSets (wave 0):
  Argo CD starts the next wave only once the Job has succeeded, and a failed Job fails the sync, so
  a workload that needs what the Job does (a schema migration, say) never starts without it. It
  comes after the application's Namespace (wave -2), with its own ServiceAccount, ConfigMap,
  NetworkPolicy and ExternalSecret (wave -1), which Argo CD applies before it within the wave
  (kinds in order; the Secret External Secrets writes may come a moment later, and the pod waits);
* in wave 1 (`WAVE_JOB_AFTER_WORKLOADS`) when it depends on a service of its own application
  (creating databases on the application's postgres, say): that service is a wave-0 workload,
  which Argo CD waits for to be healthy first. In wave -1 the Job would wait for a service that
  only comes after it, and the sync could never finish.

Argo CD leaves hooks out of an application's health (argoproj/argo-cd#9861), so other
applications, ordered after this one by their waves, do not wait for the Job: what must wait for
it belongs in its application.

A hook, not a plain object: Argo CD deletes the previous run before it creates the next one
(`BeforeHookCreation`), so a changed Job never meets the immutable `spec.template` of the old one,
and `ttlSecondsAfterFinished` may delete a finished Job without Argo CD seeing drift and recreating
it (a plain Job under selfHeal would run again after every clean-up). Not `PreSync`: that phase
runs before the Namespace, ServiceAccount and Secret of a new application exist. The Job runs again
on every sync of its application, so it must be idempotent, as migrations are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

from sophia.constructs import _workload as w
from sophia.constructs._base import SophiaConstruct

if TYPE_CHECKING:
    from sophia.k8s.batch_v1 import Job, JobSpec

WAVE_JOB = w.WAVE_CONFIG
"""The Job's sync wave: with its configuration, before the workloads (wave 0)."""
WAVE_JOB_AFTER_WORKLOADS = 1
"""The sync wave of a Job that depends on a service of its own application: after the workloads."""
HOOK = {"argocd.argoproj.io/hook": "Sync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation"}


class OneOffJob(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: w.WorkloadProps) -> None:
        super().__init__(scope, id)
        self.props = p = props
        self._emit(folder, w.service_account(p))
        if (config := w.config_map(p)) is not None:
            self._emit(folder, config)
        settings = p.spec.job
        spec: JobSpec = {
            "backoffLimit": settings.backoff_limit,
            "activeDeadlineSeconds": settings.active_deadline_seconds,
            "template": w.pod_template(p, restart_policy="OnFailure"),
        }
        if settings.ttl_seconds_after_finished is not None:
            spec["ttlSecondsAfterFinished"] = settings.ttl_seconds_after_finished
        job: Job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": p.meta(wave=WAVE_JOB_AFTER_WORKLOADS if p.local_dependencies else WAVE_JOB,
                               annotations={**HOOK, **(w.workload_annotations(p) or {})}),
            "spec": spec,
        }
        self._emit(folder, job)
