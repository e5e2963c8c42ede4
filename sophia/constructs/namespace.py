"""`Namespace`: a namespace with Pod Security Admission `restricted` enforced, a default-deny
NetworkPolicy for ingress and egress, and the one egress every pod needs: cluster DNS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.core_v1 import Namespace as KubeNamespace
    from sophia.k8s.networking_v1 import NetworkPolicy

WAVE_NAMESPACE = -2


class NamespaceProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Namespace name.")
    environment: str = Field(description="Environment that owns it.")
    application: str = Field(description="Argo CD application deployed into it.")
    acme_solver: bool = Field(
        default=False, description="Let Traefik reach cert-manager's HTTP-01 solver pods (for exposed services)."
    )


class Namespace(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: NamespaceProps) -> None:
        super().__init__(scope, id)
        self.props = props
        labels = recommended_labels(name=props.application, component="namespace", instance=f"{props.application}-{props.environment}")
        ns_labels = {
            **labels,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        }
        namespace: KubeNamespace = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": metadata(props.name, ns_labels, wave=WAVE_NAMESPACE),
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
