"""This project's extensions: Python that adds cdk8s constructs to an Argo CD application's chart.

Each module here that defines `extend_service(chart, env, service)` and/or
`extend_application(chart, env, application)` is called by every synth (`sophia/extensions.py`
says when and how): `chart` is the application's cdk8s `Chart` (its namespace set), `env` the
typed environment (`sophia.model.platform.Env`), `service` the typed service as that environment
runs it (`sophia.model.platform.Service`). Add any cdk8s construct under `chart` -- `cdk8s.ApiObject`,
cdk8s-plus-33, `cdk8s.Include`, or the classes `make imports` generates from the pinned CRDs into
`extensions/imports/` -- and it is written to that application's folder of dist/, then checked by
`sophia validate` (schemas, the pinned CRDs, policy) like everything sophia generates.

A class for another custom resource: add its CRD file's name (as its project ships it under
`<SOPHIA_CRDS>/<project>/<release>/`, the release a Cluster file pins) to that project's entry of
`IMPORTS` in `tools/import_crds.py`, run `make imports` (SOPHIA_CRDS set, or `make crds` first) and
commit `extensions/imports/`. Each API group is one module (`monitoring.coreos.com` ->
`extensions.imports.com.coreos.monitoring`) holding every kind requested of that group.

Keep an extension a pure function of its arguments: dist/ must stay byte-identical run to run.
"""
