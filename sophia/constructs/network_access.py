"""`NetworkAccess`: the NetworkPolicy of one service, derived from the dependency graph.

Ingress is allowed only from the services that declare a dependency on it (and from the ingress
controller when it is exposed); egress only to its declared dependencies and to the internet
destinations it declares with a reason. Everything else stays denied by the namespace default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata

if TYPE_CHECKING:
    from sophia.k8s.networking_v1 import (
        NetworkPolicy,
        NetworkPolicyEgressRule,
        NetworkPolicyPeer,
        NetworkPolicyPort,
        NetworkPolicySpec,
    )

PUBLIC_INTERNET = "0.0.0.0/0"
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")


class Peer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = Field(description="Namespace of the peer pods.")
    labels: tuple[tuple[str, str], ...] = Field(description="Labels selecting the peer pods.")
    ports: tuple[tuple[str, int], ...] = Field(description="(protocol, port) allowed.")


class NetworkAccessProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Service name (names the policy).")
    namespace: str = Field(description="Namespace of the service.")
    labels: dict[str, str] = Field(description="Labels of the policy object.")
    selector: dict[str, str] = Field(description="Selector of the service's pods.")
    ingress_from: tuple[Peer, ...] = Field(default=(), description="Who may connect, on which ports.")
    egress_to: tuple[Peer, ...] = Field(default=(), description="What it may connect to.")
    internet: tuple[tuple[str, str, tuple[int, ...]], ...] = Field(
        default=(), description="(name, reason, ports) of declared internet destinations."
    )


def _peer(peer: Peer) -> NetworkPolicyPeer:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": peer.namespace}},
        "podSelector": {"matchLabels": dict(peer.labels)},
    }


def _ports(peer: Peer) -> list[NetworkPolicyPort]:
    return [{"protocol": proto, "port": port} for proto, port in peer.ports]


class NetworkAccess(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: NetworkAccessProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        spec: NetworkPolicySpec = {"podSelector": {"matchLabels": p.selector}, "policyTypes": ["Ingress", "Egress"]}
        spec["ingress"] = [{"from": [_peer(peer)], "ports": _ports(peer)} for peer in p.ingress_from]
        egress: list[NetworkPolicyEgressRule] = [{"to": [_peer(peer)], "ports": _ports(peer)} for peer in p.egress_to]
        annotations: dict[str, str] = {}
        for name, reason, ports in p.internet:
            egress.append({
                "to": [{"ipBlock": {"cidr": PUBLIC_INTERNET, "except": list(PRIVATE_RANGES)}}],
                "ports": [{"protocol": "TCP", "port": port} for port in ports],
            })
            annotations[f"sophia.ai/egress.{name}"] = reason
        spec["egress"] = egress
        policy: NetworkPolicy = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": metadata(p.name, p.labels, namespace=p.namespace, annotations=annotations, wave=-1),
            "spec": spec,
        }
        self._emit(folder, policy)
