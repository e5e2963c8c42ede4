"""Checking a Cluster file against itself: what one field names, another defines.

The model validates each field; this checks the references between them, each problem at the line of
the field that names something missing: the add-on `spec.monitoring` says runs Prometheus.
"""

from __future__ import annotations

from sophia.model import models as m
from sophia.model.problems import Collector, Source, defined_names, did_you_mean


def check_cluster(src: Source, cluster: m.Cluster, col: Collector) -> None:
    """Add a problem to `col` for every reference of the Cluster file that does not resolve."""
    spec = cluster.spec
    monitoring = spec.monitoring
    if monitoring is not None and monitoring.prometheus not in spec.addons:
        path: tuple[str | int, ...] = ("spec", "monitoring", "prometheus")
        col.add(src.file, src.doc.line_of(path), path, f"add-on {monitoring.prometheus!r} is not defined",
                did_you_mean(monitoring.prometheus, spec.addons) or defined_names("add-ons", spec.addons))
