"""Typed Kubernetes shapes: TypedDicts of every Kubernetes 1.33 object (`core_v1`, `apps_v1`,
`meta_v1`, ...) and of the custom resources sophia emits (`argoproj_io_v1alpha1`, ...), generated
from the schemas `sophia validate` checks against (tools/generate_types.py, `make types`).

Import them under `TYPE_CHECKING`: mypy checks every field name and type of the objects the
constructs build, and nothing is imported when sophia runs.
"""
