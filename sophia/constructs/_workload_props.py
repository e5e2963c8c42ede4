"""The props every workload construct takes (`WorkloadProps`, built by `sophia.build` from one service),
and the names and waves the workload helpers share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import metadata, recommended_labels, selector_labels
from sophia.model.models import (
    ServiceSpec,
)

if TYPE_CHECKING:
    from sophia.k8s.meta_v1 import ObjectMeta


GPU_RESOURCE = "nvidia.com/gpu"

EXCEPTION_ANNOTATION = "sophia.ai/security-exception"
RELAXED_RULES = {"runAsNonRoot": "SOPHIA-PSS-001", "capabilities": "SOPHIA-PSS-003", "seccompProfile": "SOPHIA-PSS-004"}
"""The policy rule each named relaxation waives (with the exception's reason). These three are also
the Pod Security Standard controls that `restricted` adds to `baseline`: a namespace holding such a
relaxation enforces `baseline` (readOnlyRootFilesystem is no PSS control)."""

HEADLESS_LABEL = "sophia.ai/headless"
"""On a StatefulSet's headless Service only (value "true"): it has the client Service's labels otherwise,
so a selector of Services (a ServiceMonitor's) tells them apart with `DoesNotExist` on this key."""

WAVE_CONFIG = -1
"""Sync wave of ServiceAccounts, ConfigMaps and ExternalSecrets: before the workloads (wave 0)."""


class SecretItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Env var name, and the key in the target Secret.")
    mount_path: str | None = Field(default=None, description="Mounted as a read-only file instead.")


class WorkloadProps(BaseModel):
    """Everything a workload construct needs; built by `sophia.build` from one service."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str = Field(description="Service name: names every object of the workload.")
    namespace: str = Field(description="Namespace of the workload.")
    environment: str = Field(description="Environment name (part of the instance label).")
    image: str = Field(description="Full image reference, pinned.")
    version: str = Field(description="Version label (the image tag).")
    spec: ServiceSpec = Field(description="The service as this environment runs it.")
    env: tuple[tuple[str, str], ...] = Field(default=(), description="Plain env values, in order.")
    secret_name: str | None = Field(default=None, description="Secret that the ExternalSecret creates.")
    secrets: tuple[SecretItem, ...] = Field(default=(), description="Secret items the pod reads.")
    node_labels: tuple[tuple[str, str], ...] = Field(description="Labels of the pool's nodes (required affinity).")
    tolerations: tuple[tuple[str, str, str], ...] = Field(default=(), description="(key, value, effect) tolerated.")
    runtime_class: str | None = Field(default=None, description="runtimeClassName (nvidia for GPU pods).")
    relax: tuple[str, ...] = Field(default=(), description="Hardening settings relaxed by a named exception.")
    local_dependencies: tuple[str, ...] = Field(
        default=(), description="The services of its own application it depends on (a job then runs after them)."
    )
    exception_reason: str = Field(default="", description="Why they are relaxed.")

    @property
    def instance(self) -> str:
        return f"{self.name}-{self.environment}"

    @property
    def labels(self) -> dict[str, str]:
        return recommended_labels(
            name=self.name, instance=self.instance, version=self.version, component=self.spec.component
        )

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(name=self.name, instance=self.instance)

    @property
    def secret(self) -> str:
        """The Secret the pod reads its `secrets` from (asked only when there are secrets)."""
        if self.secret_name is None:
            raise ValueError(f"{self.name}: secrets without secret_name")
        return self.secret_name

    @property
    def gpu_count(self) -> int:
        return self.spec.gpu.count if self.spec.gpu else 0

    def meta(self, name: str | None = None, *, wave: int | None = None, annotations: Mapping[str, str] | None = None) -> ObjectMeta:
        return metadata(name or self.name, self.labels, namespace=self.namespace, wave=wave, annotations=annotations)
