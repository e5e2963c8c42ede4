"""The ServiceMonitor of every service that declares `metrics:` -- the shipped example of an extension.

Built with the classes `cdk8s import` generated from the prometheus-operator CRDs the Cluster file
pins (`extensions/imports/`, `make imports`), so the object is typed by its own CRD. It selects the
service's Service by the labels sophia selects its pods by, and scrapes the named port and path the
service declares; sophia's NetworkPolicy opens exactly that port to the cluster's Prometheus.
A stateful service has two Services of those labels, the client one and the headless one (marked
`HEADLESS_LABEL`); the selector leaves the headless one out, or each pod would be scraped twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cdk8s

from extensions.imports.com.coreos import monitoring
from sophia.constructs.stateful_service import HEADLESS_LABEL

if TYPE_CHECKING:
    from sophia.constructs.application_chart import ApplicationChart
    from sophia.model.platform import Env, Service


def extend_service(chart: ApplicationChart, env: Env, service: Service) -> None:
    metrics = service.spec.metrics
    if metrics is None:
        return
    selector = {"app.kubernetes.io/name": service.name, "app.kubernetes.io/instance": f"{service.name}-{env.name}"}
    monitoring.ServiceMonitor(
        chart,
        f"ServiceMonitor-{service.name}",
        metadata=cdk8s.ApiObjectMetadata(
            name=service.name,
            labels={**selector, "app.kubernetes.io/component": "metrics", "app.kubernetes.io/part-of": "sophia",
                    "app.kubernetes.io/managed-by": "sophia"},
        ),
        spec=monitoring.ServiceMonitorSpec(
            selector=monitoring.ServiceMonitorSpecSelector(
                match_labels=selector,
                match_expressions=[monitoring.ServiceMonitorSpecSelectorMatchExpressions(key=HEADLESS_LABEL, operator="DoesNotExist")],
            ),
            endpoints=[monitoring.ServiceMonitorSpecEndpoints(port=metrics.port, path=metrics.path, interval="30s")],
        ),
    )
