"""The Kubernetes 1.33 API server's rules beyond the OpenAPI schemas: `api_problems(resource)`.

What a server-side dry run of one object would answer, for the kinds sophia writes and their
relatives: the name rule of each kind, metadata (namespace, labels, annotations, finalizers),
label selectors, pod specs wherever they appear, each kind's own spec rules, quantities, and the
warnings the API server returns with an accepted object. Each rule follows the Go validation of
Kubernetes 1.33 (`pkg/apis/*/validation`, `k8s.io/apimachinery/pkg/{api,util}/validation`) and
words its message the same way (`Invalid value: "Foo": a lowercase RFC 1123 subdomain ...`).

Two deliberate differences: a finding's path is where the value is written in the manifest
(`spec.template.metadata.labels`, where the API server says `spec.template.labels`), so that it
gets a line number; and a StatefulSet's pod template is checked as the Pods its controller
creates, which the API server only refuses when the controller creates them.

Warnings are only reported for an object without errors: the API server returns them only with
an object it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the rules load on first use (`api_problems`)
    from ..documents import Resource
    from .formats import Problem

__all__ = ["api_problems"]

Check = Callable[[dict[str, Any]], Iterator["Problem"]]


@cache
def _checks() -> dict[tuple[str, str], Check]:
    """Each kind's own rules, by (API group, kind); imported on first use, so that the model can use
    `cron` (CronJob schedules) without loading every rule."""
    from . import network, objects, workloads

    return {
        ("", "Pod"): workloads.pod,
        ("apps", "Deployment"): workloads.deployment,
        ("apps", "ReplicaSet"): workloads.replica_set,
        ("apps", "DaemonSet"): workloads.daemon_set,
        ("apps", "StatefulSet"): workloads.stateful_set,
        ("batch", "Job"): workloads.job,
        ("batch", "CronJob"): workloads.cron_job,
        ("", "Service"): network.service,
        ("networking.k8s.io", "NetworkPolicy"): network.network_policy,
        ("networking.k8s.io", "Ingress"): network.ingress,
        ("policy", "PodDisruptionBudget"): objects.disruption_budget,
        ("autoscaling", "HorizontalPodAutoscaler"): objects.autoscaler,
        ("", "PersistentVolumeClaim"): objects.claim,
        ("", "ConfigMap"): objects.config,
        ("", "Secret"): objects.config,
        ("node.k8s.io", "RuntimeClass"): objects.runtime_class,
        ("", "Namespace"): objects.namespace,
    }


def api_problems(resource: Resource) -> Iterator[Problem]:
    """(field path, message, is_warning) for every rule the API server would apply to `resource`."""
    from . import meta

    data = resource.data
    if not isinstance(data, dict) or not resource.kind or not resource.api_version:
        return
    group = resource.api_version.rpartition("/")[0]
    problems = list(meta.object_meta(data.get("metadata"), resource.api_version, resource.kind))
    check = _checks().get((group, resource.kind))
    if check is not None:
        problems.extend(check(data))
    errors = [p for p in problems if not p[2]]
    yield from _unique(errors or problems)


def _unique(problems: list[Problem]) -> Iterator[Problem]:
    """As the API server's error list: the same message for the same field once."""
    seen: set[Problem] = set()
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            yield problem
