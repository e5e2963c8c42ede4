"""The published JSON Schema of the environment format, generated from the models.

Editors (the YAML language server) complete and check environment files against these; each
file references its schema in a `# yaml-language-server: $schema=...` comment. A catalogue entry's
`spec.services.<name>` is a `ServiceSpec`.
"""

from __future__ import annotations

import json
from typing import Any

from sophia.model import models as m

FILES = {
    "service-catalog.schema.json": m.ServiceCatalog,
    "release.schema.json": m.Release,
    "cluster.schema.json": m.Cluster,
    "environment.schema.json": m.Environment,
}


def schema_of(model: type[m.Model]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    if model is m.ServiceCatalog:
        service = m.ServiceSpec.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
        defs = schema.setdefault("$defs", {})
        defs.update(service.pop("$defs", {}))
        defs["ServiceSpec"] = service
        defs["CatalogSpec"]["properties"]["services"]["additionalProperties"] = {"$ref": "#/$defs/ServiceSpec"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://sophia.ai/schemas/v1alpha1/{model.__name__}"
    return schema


def render_all() -> dict[str, str]:
    """`{file name: JSON text}` of every published schema."""
    return {name: json.dumps(schema_of(model), indent=2, sort_keys=True) + "\n" for name, model in FILES.items()}
