"""`LlmGateway`: the open-source Portkey AI gateway, the platform's one way to reach LLMs.

The gateway (``portkeyai/gateway``, port 8787, health ``GET /``) takes its routing only from the
per-request ``x-portkey-config`` header; it has no server-side store for configs or provider keys
(named configs are an open upstream proposal). So the pod runs a small unprivileged nginx in
front of it that adds that header to every request. The header's JSON -- strategy, targets,
retries, and the provider keys -- is rendered by External Secrets Operator from Pulumi ESC into a
Secret that only this pod reads. Callers get the proxy's in-cluster URL and never a key.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels, selector_labels
from sophia.constructs._pod import container_security, node_affinity
from sophia.constructs._workload import hpa, pdb
from sophia.constructs.service_secrets import ServiceSecrets, ServiceSecretsProps
from sophia.model.models import Autoscaling, LlmRouting, LlmTarget, Resources

if TYPE_CHECKING:
    from sophia.k8s.apps_v1 import Deployment
    from sophia.k8s.core_v1 import ConfigMap, Container, Service, ServiceAccount
    from sophia.k8s.core_v1 import Probe as KubeProbe
    from sophia.k8s.meta_v1 import ObjectMeta

NAME = "llm-gateway"
GATEWAY_IMAGE = "portkeyai/gateway:1.15.2"
PROXY_IMAGE = "nginxinc/nginx-unprivileged:1.27.3-alpine"
GATEWAY_PORT = 8787
PROXY_PORT = 8080
CONFIG_KEY = "config.json"
PROXY_TEMPLATE = """\
server {
    listen 8080;
    location = /healthz {
        access_log off;
        return 200 "ok\\n";
    }
    location / {
        proxy_set_header x-portkey-config '${PORTKEY_CONFIG}';
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_read_timeout 300s;
        proxy_pass http://localhost:8787;
    }
}
"""


class LlmGatewayProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = Field(description="Namespace of the gateway.")
    environment: str = Field(description="Environment name.")
    node_labels: tuple[tuple[str, str], ...] = Field(description="Labels of the pool's nodes.")
    resources: Resources = Field(description="Requests and limits of the gateway container.")
    autoscaling: Autoscaling = Field(description="Replica bounds.")
    routing: LlmRouting = Field(description="Strategy, targets and retries.")
    store: str = Field(description="ClusterSecretStore holding the provider keys.")
    refresh_interval: str = Field(description="How often provider keys are re-read.")
    run_as_user: int = Field(default=10001, description="UID of both containers.")

    @property
    def labels(self) -> dict[str, str]:
        return recommended_labels(name=NAME, instance=f"{NAME}-{self.environment}", version=GATEWAY_IMAGE.split(":")[1],
                                  component="llm-gateway")

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(name=NAME, instance=f"{NAME}-{self.environment}")


def portkey_config(routing: LlmRouting) -> dict[str, Any]:
    """The x-portkey-config document, with ESO template references where the keys go."""
    def target(t: LlmTarget) -> dict[str, Any]:
        out: dict[str, Any] = {"provider": t.provider, "api_key": "{{ ." + _key_name(t.provider) + " }}"}
        if t.model:
            out["override_params"] = {"model": t.model}
        if t.weight is not None:
            out["weight"] = t.weight
        return out

    retry = {"attempts": routing.retry.attempts, "on_status_codes": list(routing.retry.on_status_codes)}
    if routing.strategy == "single":
        return {**target(routing.targets[0]), "retry": retry}
    return {
        "strategy": {"mode": routing.strategy},
        "retry": retry,
        "targets": [target(t) for t in routing.targets],
    }


def _key_name(provider: str) -> str:
    return provider.replace("-", "_") + "_api_key"


def _http_probe(path: str, port: int) -> KubeProbe:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": 10, "timeoutSeconds": 3, "failureThreshold": 3}


class LlmGateway(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: LlmGatewayProps) -> None:
        super().__init__(scope, id)
        self.props = props
        p = props
        ns = p.namespace

        def meta(name: str = NAME, wave: int | None = None) -> ObjectMeta:
            return metadata(name, p.labels, namespace=ns, wave=wave)

        account: ServiceAccount = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(wave=-1),
                                   "automountServiceAccountToken": False}
        self._emit(folder, account)
        providers = sorted({t.provider for t in p.routing.targets})
        ServiceSecrets(self, "secrets", folder=folder, props=ServiceSecretsProps(
            name=f"{NAME}-config",
            namespace=ns,
            labels=p.labels,
            store=p.store,
            refresh_interval=p.refresh_interval,
            items=tuple((_key_name(pr), f"llm.{pr.replace('-', '_')}.api_key") for pr in providers),
            template={CONFIG_KEY: json.dumps(portkey_config(p.routing), sort_keys=True, separators=(",", ":"))},
        ))
        proxy_config: ConfigMap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"{NAME}-proxy", wave=-1),
                                   "data": {"default.conf.template": PROXY_TEMPLATE}}
        self._emit(folder, proxy_config)
        uid = p.run_as_user
        gateway: Container = {
            "name": "gateway",
            "image": GATEWAY_IMAGE,
            "imagePullPolicy": "Always",
            "ports": [{"name": "gateway", "containerPort": GATEWAY_PORT, "protocol": "TCP"}],
            "securityContext": container_security(uid),
            "resources": {
                "requests": {"cpu": p.resources.requests.cpu, "memory": p.resources.requests.memory},
                "limits": {"cpu": p.resources.limits.cpu, "memory": p.resources.limits.memory},
            },
            "livenessProbe": _http_probe("/", GATEWAY_PORT),
            "readinessProbe": _http_probe("/", GATEWAY_PORT),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        proxy: Container = {
            "name": "config-proxy",
            "image": PROXY_IMAGE,
            "imagePullPolicy": "Always",
            "ports": [{"name": "http", "containerPort": PROXY_PORT, "protocol": "TCP"}],
            "env": [{"name": "PORTKEY_CONFIG", "valueFrom": {"secretKeyRef": {"name": f"{NAME}-config", "key": CONFIG_KEY}}}],
            "securityContext": container_security(uid),
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "250m", "memory": "64Mi"}},
            "livenessProbe": _http_probe("/healthz", PROXY_PORT),
            "readinessProbe": _http_probe("/healthz", PROXY_PORT),
            "volumeMounts": [
                {"name": "proxy-template", "mountPath": "/etc/nginx/templates", "readOnly": True},
                {"name": "proxy-conf", "mountPath": "/etc/nginx/conf.d"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        config_hash = json.dumps(portkey_config(p.routing), sort_keys=True)
        deployment: Deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(),
            "spec": {
                "selector": {"matchLabels": p.selector},
                "revisionHistoryLimit": 5,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": {
                    "metadata": {
                        "labels": p.labels,
                        "annotations": {"sophia.ai/config-hash": _short_hash(config_hash + PROXY_TEMPLATE)},
                    },
                    "spec": {
                        "serviceAccountName": NAME,
                        "automountServiceAccountToken": False,
                        "enableServiceLinks": False,
                        "securityContext": {
                            "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "containers": [gateway, proxy],
                        "volumes": [
                            {"name": "tmp", "emptyDir": {}},
                            {"name": "proxy-conf", "emptyDir": {}},
                            {"name": "proxy-template", "configMap": {"name": f"{NAME}-proxy"}},
                        ],
                        "affinity": node_affinity(p.node_labels),
                    },
                },
            },
        }
        self._emit(folder, deployment)
        service: Service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(),
            "spec": {
                "type": "ClusterIP",
                "selector": p.selector,
                "ports": [{"name": "http", "port": PROXY_PORT, "targetPort": "http", "protocol": "TCP"}],
            },
        }
        self._emit(folder, service)
        self._emit(folder, hpa(meta(), "Deployment", NAME, p.autoscaling))
        self._emit(folder, pdb(meta(), p.selector))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
