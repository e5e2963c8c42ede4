"""Checking a Cluster file against itself: what one field names, another defines.

The model validates each field; this checks the references between them, each problem at the line of
the field that needs what is missing: the add-on `spec.monitoring` says runs Prometheus and the CRDs
of its alert rules; the ESC environment and the External Secrets add-on that add-on secrets are read
through; one name per Secret.
"""

from __future__ import annotations

from collections.abc import Callable

from sophia.model import models as m
from sophia.model.problems import Collector, Source, defined_names, did_you_mean

Path = tuple[str | int, ...]


class _Problems:
    """Where the problems of one Cluster file go, each at the line of its field."""

    def __init__(self, src: Source, col: Collector) -> None:
        self.src, self.col = src, col

    def add(self, path: Path, message: str, hint: str = "") -> None:
        self.col.add(self.src.file, self.src.doc.line_of(path), path, message, hint)


def check_cluster(src: Source, cluster: m.Cluster, col: Collector) -> None:
    """Add a problem to `col` for every reference of the Cluster file that does not resolve."""
    problems = _Problems(src, col)
    spec = cluster.spec
    monitoring = spec.monitoring
    if monitoring is not None and monitoring.prometheus not in spec.addons:
        problems.add(("spec", "monitoring", "prometheus"), f"add-on {monitoring.prometheus!r} is not defined",
                     did_you_mean(monitoring.prometheus, spec.addons) or defined_names("add-ons", spec.addons))
    if monitoring is not None and monitoring.alerts and not spec.installers(m.PROMETHEUS_OPERATOR_GROUP):
        problems.add(("spec", "monitoring"), "the alert rules are PrometheusRules, but no add-on installs their CRDs",
                     f"add prometheus-operator's CRDs as an add-on with crds: {{groups: [{m.PROMETHEUS_OPERATOR_GROUP}]}}")
    _addon_secrets(spec, problems.add)


def _addon_secrets(spec: m.ClusterSpec, add: Callable[[Path, str, str], None]) -> None:
    """Add-on secrets come from the cluster's ESC environment through External Secrets, one name per Secret."""
    declared: dict[str, str] = {}
    for name, addon in sorted(spec.addons.items()):
        if not addon.secrets:
            continue
        path: Path = ("spec", "addons", name, "secrets")
        if spec.esc is None:
            add(path, f"add-on {name!r} reads secrets from ESC but the cluster names no ESC environment",
                "set spec.esc (organization, environment) in the Cluster file")
        if not spec.installers(m.EXTERNAL_SECRETS_GROUP):
            add(path, f"add-on {name!r} reads secrets through External Secrets, but no add-on installs its CRDs",
                f"add External Secrets as an add-on with crds: {{groups: [{m.EXTERNAL_SECRETS_GROUP}]}}")
        for secret in addon.secrets:
            other = declared.setdefault(secret, name)
            if other != name:
                add((*path, secret), f"Secret {secret!r} is also declared by add-on {other!r}",
                    "the cluster's ExternalSecrets share one folder: give each Secret its own name")
