"""`AlertRules`: sophia's default alerts, one PrometheusRule per group, in the namespace of the cluster's
Prometheus (which selects every PrometheusRule of the cluster).

The default set watches what the platform can get wrong at run time: pods crash-looping or not
ready, volumes and GPU memory nearly full (the capacity check covers requests, not use), and Argo CD
Applications degraded or out of sync. Each expression reads one exporter's metrics: kube-state-metrics
(`kube_*`), the kubelet (`kubelet_volume_stats_*`), the NVIDIA DCGM exporter (`DCGM_FI_DEV_FB_*`,
framebuffer MiB) and Argo CD's application controller (`argocd_app_info`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SKIP_DRY_RUN, SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.monitoring_coreos_com_v1 import PrometheusRule, PrometheusRuleSpecGroups, PrometheusRuleSpecGroupsRules


class AlertRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    alert: str = Field(description="Alert name (CamelCase), as Alertmanager and Slack show it.")
    expr: str = Field(description="PromQL: the alert fires for every series it returns.")
    wait: str = Field(description="How long the expression must hold before the alert fires (the rule's `for`).")
    severity: Literal["warning", "critical"] = Field(description="The `severity` label Alertmanager routes on.")
    summary: str = Field(description="One line, with Prometheus template references to the series' labels.")


class AlertGroup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Group name; the PrometheusRule is `sophia-<name>`.")
    rules: tuple[AlertRule, ...] = Field(description="Rules evaluated together.")
    capacity: bool = Field(default=False, description="Whether the group watches capacity in use (CAPACITY.md lists it).")


DEFAULT_ALERTS: tuple[AlertGroup, ...] = (
    AlertGroup(name="pods", rules=(
        AlertRule(
            alert="PodCrashLooping",
            expr='max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1',
            wait="15m", severity="warning",
            summary="Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} is crash-looping",
        ),
        AlertRule(
            alert="PodNotReady",
            expr='sum by (namespace, pod) (kube_pod_status_ready{condition="false"}) > 0'
                 ' unless on (namespace, pod) kube_pod_owner{owner_kind="Job"}',
            wait="15m", severity="warning",
            summary="Pod {{ $labels.namespace }}/{{ $labels.pod }} has not been ready for 15 minutes",
        ),
    )),
    AlertGroup(name="storage", capacity=True, rules=(
        AlertRule(
            alert="VolumeNearlyFull",
            expr="kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.1",
            wait="10m", severity="warning",
            summary="Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is over 90% full",
        ),
    )),
    AlertGroup(name="gpu", capacity=True, rules=(
        AlertRule(
            alert="GpuMemoryNearlyFull",
            expr="DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > 0.9",
            wait="10m", severity="warning",
            summary="GPU {{ $labels.gpu }} ({{ $labels.modelName }}) behind {{ $labels.instance }} has used over 90% of its memory",
        ),
    )),
    AlertGroup(name="argocd", rules=(
        AlertRule(
            alert="ArgoCdAppDegraded",
            expr='max by (name, project) (argocd_app_info{health_status="Degraded"}) > 0',
            wait="15m", severity="critical",
            summary="Argo CD Application {{ $labels.name }} (project {{ $labels.project }}) is Degraded",
        ),
        AlertRule(
            alert="ArgoCdAppOutOfSync",
            expr='max by (name, project) (argocd_app_info{sync_status="OutOfSync"}) > 0',
            wait="30m", severity="warning",
            summary="Argo CD Application {{ $labels.name }} (project {{ $labels.project }}) has been OutOfSync for 30 minutes",
        ),
    )),
)
"""What every monitored cluster is alerted on."""


class AlertRulesProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = Field(description="Namespace of the cluster's Prometheus.")
    groups: tuple[AlertGroup, ...] = Field(default=DEFAULT_ALERTS, description="The rules, by group: sophia's defaults.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations of each PrometheusRule.")


class AlertRules(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: AlertRulesProps) -> None:
        super().__init__(scope, id)
        self.props = props
        for group in props.groups:
            name = f"sophia-{group.name}"
            labels = recommended_labels(name=name, component="alert-rules")
            spec: PrometheusRuleSpecGroups = {"name": f"sophia.{group.name}", "rules": [_rule(rule) for rule in group.rules]}
            rule: PrometheusRule = {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": metadata(name, labels, namespace=props.namespace, annotations={**SKIP_DRY_RUN, **props.annotations}),
                "spec": {"groups": [spec]},
            }
            self._emit(folder, rule)


def _rule(rule: AlertRule) -> PrometheusRuleSpecGroupsRules:
    return {
        "alert": rule.alert,
        "expr": rule.expr,
        "for": rule.wait,
        "labels": {"severity": rule.severity},
        "annotations": {"summary": rule.summary},
    }
