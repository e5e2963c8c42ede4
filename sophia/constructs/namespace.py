"""`Namespace`: a namespace with Pod Security Admission `restricted` enforced (lower only as far as
the policy waivers of its services need, see `POD_SECURITY_WAIVED`), a default-deny
NetworkPolicy for ingress and egress, and the one egress every pod needs: cluster DNS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.core_v1 import Namespace as KubeNamespace
    from sophia.k8s.networking_v1 import NetworkPolicy

WAVE_NAMESPACE = -2
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
POD_SECURITY_LEVELS: tuple[PodSecurityLevel, ...] = ("privileged", "baseline", "restricted")
POD_SECURITY_WAIVED: dict[str, PodSecurityLevel] = {
    "SOPHIA-PSS-001": "baseline", "SOPHIA-PSS-002": "baseline", "SOPHIA-PSS-003": "baseline",
    "SOPHIA-PSS-004": "baseline", "SOPHIA-PSS-006": "baseline",
    "SOPHIA-PSS-005": "privileged", "SOPHIA-PSS-007": "privileged", "SOPHIA-PSS-008": "privileged",
    "SOPHIA-PSS-009": "privileged",
}
"""The Pod Security level a namespace must enforce for the API server to admit the pods of a service
that waives the rule: one below the level of the Pod Security Standard checks the rule is made of
(restricted-only checks: baseline; baseline checks: privileged). `tests/test_pod_security.py` holds
this table to the validator's definition of each rule."""


def pod_security_for(waived: Mapping[str, Iterable[str]]) -> tuple[PodSecurityLevel, tuple[str, ...]]:
    """The level a namespace enforces, given the rules each of its services waives: restricted, lowered
    only as far as the waivers need (so that the API server admits what the policy lets through),
    and the waivers that lowered it (`service: rule`)."""
    level: PodSecurityLevel = "restricted"
    reasons = []
    for service, rules in sorted(waived.items()):
        for rule in sorted(rules):
            needed = POD_SECURITY_WAIVED.get(rule)
            if needed is not None:
                reasons.append(f"{service}: {rule}")
                level = min(level, needed, key=POD_SECURITY_LEVELS.index)
    return level, tuple(reasons)


class NamespaceProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Namespace name.")
    environment: str = Field(description="Environment that owns it.")
    application: str = Field(description="Argo CD application deployed into it.")
    acme_solver: bool = Field(
        default=False, description="Let Traefik reach cert-manager's HTTP-01 solver pods (for exposed services)."
    )
    pod_security: PodSecurityLevel = Field(default="restricted", description="The Pod Security level enforced.")
    pod_security_reasons: tuple[str, ...] = Field(
        default=(), description="Why the level is below restricted: the waivers (`service: rule`) that need it.",
    )


class Namespace(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: NamespaceProps) -> None:
        super().__init__(scope, id)
        self.props = props
        labels = recommended_labels(name=props.application, component="namespace", instance=f"{props.application}-{props.environment}")
        level = props.pod_security
        ns_labels = {
            **labels,
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": level,
            "pod-security.kubernetes.io/warn": level,
        }
        namespace: KubeNamespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": metadata(props.name, ns_labels, wave=WAVE_NAMESPACE),
        }
        if props.pod_security_reasons:  # each waiver's own reason is on its workload
            namespace["metadata"]["annotations"] = {
                **namespace["metadata"].get("annotations", {}),
                "sophia.ai/pod-security": f"{level}, for the waivers of " + "; ".join(props.pod_security_reasons),
            }
        self._emit(folder, namespace)
        deny: NetworkPolicy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata("default-deny", labels, namespace=props.name, wave=-1),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        }
        self._emit(folder, deny)
        dns: NetworkPolicy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata("allow-dns", labels, namespace=props.name, wave=-1),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        }
        self._emit(folder, dns)
        if props.acme_solver:
            solver: NetworkPolicy = {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": metadata("allow-acme-solver", labels, namespace=props.name, wave=-1),
                "spec": {
                    "podSelector": {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{
                        "from": [{
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
                        }],
                        "ports": [{"protocol": "TCP", "port": 8089}],
                    }],
                },
            }
            self._emit(folder, solver)
