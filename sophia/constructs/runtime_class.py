"""`NvidiaRuntimeClass`: the RuntimeClass GPU pods name in `runtimeClassName` (k3s registers the
`nvidia` containerd handler when it finds the NVIDIA container toolkit on a node)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct
from pydantic import BaseModel, ConfigDict, Field

from sophia.constructs._base import SophiaConstruct, metadata, recommended_labels

if TYPE_CHECKING:
    from sophia.k8s.node_v1 import RuntimeClass


class NvidiaRuntimeClassProps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="nvidia", description="RuntimeClass name, and the containerd handler.")


class NvidiaRuntimeClass(SophiaConstruct):
    def __init__(self, scope: Construct, id: str, *, folder: str, props: NvidiaRuntimeClassProps) -> None:
        super().__init__(scope, id)
        self.props = props
        labels = recommended_labels(name=props.name, component="runtime-class")
        runtime: RuntimeClass = {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": metadata(props.name, labels),
            "handler": props.name,
        }
        self._emit(folder, runtime)
