"""The pydantic models of the environment format, one module per kind or concern; `sophia.model.models`
gathers them in one namespace."""
