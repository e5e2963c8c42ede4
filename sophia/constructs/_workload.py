"""The objects every workload construct shares (`web_service`, `worker`, `stateful_service`,
`scheduled_job`, `node_agent`, `one_off_job`): ServiceAccount, ConfigMap, Service, autoscaler,
disruption budget, annotations. Props in `_workload_props`, the pod template in `_pod`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias

from sophia.model.models import (
    WAIVER_ANNOTATION_PREFIX,
    Autoscaling,
)

if TYPE_CHECKING:
    from sophia.k8s.apps_v1 import Deployment, DeploymentSpec
    from sophia.k8s.autoscaling_v2 import HorizontalPodAutoscaler
    from sophia.k8s.core_v1 import (
        ConfigMap,
        Service,
        ServiceAccount,
    )
    from sophia.k8s.core_v1 import ServiceSpec as KubeServiceSpec
    from sophia.k8s.meta_v1 import ObjectMeta
    from sophia.k8s.policy_v1 import PodDisruptionBudget

    Companion: TypeAlias = ServiceAccount | ConfigMap | HorizontalPodAutoscaler | PodDisruptionBudget


from sophia.constructs._pod import pod_template
from sophia.constructs._workload_props import (
    EXCEPTION_ANNOTATION,
    HEADLESS_LABEL,
    RELAXED_RULES,
    WAVE_CONFIG,
    SecretItem,
    WorkloadProps,
)


def service_account(p: WorkloadProps) -> ServiceAccount:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": p.meta(wave=WAVE_CONFIG),
        "automountServiceAccountToken": False,
    }


def config_map(p: WorkloadProps) -> ConfigMap | None:
    if not p.env:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": p.meta(f"{p.name}-env", wave=WAVE_CONFIG),
        "data": dict(p.env),
    }


def service(p: WorkloadProps, *, headless: bool = False) -> Service:
    spec: KubeServiceSpec = {"type": "ClusterIP", "selector": p.selector, "ports": [
        {"name": pname, "port": port.port, "targetPort": pname, "protocol": port.protocol}
        for pname, port in p.spec.ports.items()
    ]}
    meta = p.meta(p.name)
    if headless:
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = True
        meta = p.meta(f"{p.name}-headless")
        meta["labels"] = {**p.labels, HEADLESS_LABEL: "true"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": spec,
    }


def companions(p: WorkloadProps, kind: str) -> Iterator[Companion]:
    """What stands beside a long-running workload: its ServiceAccount, and its ConfigMap,
    HorizontalPodAutoscaler (scaling the `kind` named) and PodDisruptionBudget where they apply."""
    yield service_account(p)
    for optional in (config_map(p), autoscaler(p, kind), disruption_budget(p)):
        if optional is not None:
            yield optional


def deployment(p: WorkloadProps) -> Deployment:
    """A Deployment; GPU pods cannot surge a second pod onto a single-GPU node, so they replace."""
    spec: DeploymentSpec = {
        "selector": {"matchLabels": p.selector},
        "revisionHistoryLimit": 5,
        "template": pod_template(p),
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
        "metadata": p.meta(annotations=workload_annotations(p)),
        "spec": spec,
    }


def hpa(meta: ObjectMeta, kind: str, name: str, scaling: Autoscaling) -> HorizontalPodAutoscaler:
    """A CPU-utilisation HorizontalPodAutoscaler of one workload."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": scaling.target_cpu_utilization},
                    },
                }
            ],
        },
    }


def autoscaler(p: WorkloadProps, kind: str) -> HorizontalPodAutoscaler | None:
    scaling = p.spec.autoscaling
    return None if scaling is None else hpa(p.meta(), kind, p.name, scaling)


def pdb(meta: ObjectMeta, selector: dict[str, str]) -> PodDisruptionBudget:
    """A PodDisruptionBudget letting one pod go at a time."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta,
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
    }


def disruption_budget(p: WorkloadProps) -> PodDisruptionBudget | None:
    least = p.spec.autoscaling.min_replicas if p.spec.autoscaling else p.spec.replicas
    return None if least < 2 else pdb(p.meta(), p.selector)


def workload_annotations(p: WorkloadProps) -> dict[str, str] | None:
    """The workload object's own annotations: a named security exception, and the policy waivers."""
    out: dict[str, str] = {}
    if p.relax:
        out[EXCEPTION_ANNOTATION] = f"{', '.join(sorted(p.relax))}: {p.exception_reason}"
    waivers: dict[str, str] = {
        RELAXED_RULES[r]: f"security exception: {p.exception_reason}" for r in p.relax if r in RELAXED_RULES
    }
    waivers.update({str(rule): reason for rule, reason in p.spec.waivers.items()})
    for rule, reason in sorted(waivers.items()):
        out[WAIVER_ANNOTATION_PREFIX + rule] = reason
    return dict(sorted(out.items())) or None

__all__ = [
    "WAVE_CONFIG", "SecretItem", "WorkloadProps", "autoscaler", "companions", "config_map", "deployment",
    "disruption_budget", "hpa", "pdb", "pod_template", "service", "service_account", "workload_annotations",
]
