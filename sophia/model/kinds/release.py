"""The `Release` kind: what gets promoted, the image tag or digest of each service."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from sophia.model.kinds.fields import Metadata, Model, Name
from sophia.model.kinds.service_parts import ImageVersion


class ReleaseSpec(Model):
    images: dict[Name, ImageVersion] = Field(
        default_factory=dict, description="Image tag or digest per service: what gets promoted."
    )


class Release(Model):
    api_version: Literal["sophia.ai/v1alpha1"]
    kind: Literal["Release"]
    metadata: Metadata
    spec: ReleaseSpec
