"""`sophia diff`: object identity, each kind of change, each risk flag, exit codes, Markdown shape."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sophia.diff import DiffReport, Risk, compare
from sophia.diff.command import diff
from sophia.diff.gitread import read_dist, resolve
from sophia.diff.model import DiffError, canonical
from sophia.diff.render_markdown import render_markdown
from sophia.diff.render_text import render_text

REPO = Path(__file__).resolve().parents[1]
Manifest = dict[str, Any]


# -- tiny manifests ------------------------------------------------------------------------------------

def deployment(name: str = "api", ns: str = "prod-core", replicas: int | None = 2, gpu: int = 0, wave: str | None = None) -> Manifest:
    container: Manifest = {"name": "api", "image": "api:1"}
    if gpu:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpu}}
    m: Manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": {"matchLabels": {"app": name}},
                            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}
    if replicas is not None:
        m["spec"]["replicas"] = replicas
    if wave is not None:
        m["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": wave}
    return m


def statefulset(name: str = "postgres", ns: str = "prod-data") -> Manifest:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "serviceName": f"{name}-headless", "podManagementPolicy": "OrderedReady",
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "db", "image": "pg:16"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}}}}]}}


def pvc(name: str = "cache", ns: str = "prod-data") -> Manifest:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path", "resources": {"requests": {"storage": "10Gi"}}}}


def service(name: str = "api", ns: str = "prod-core", cluster_ip: str | None = None) -> Manifest:
    m: Manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
                   "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}
    if cluster_ip is not None:
        m["spec"]["clusterIP"] = cluster_ip
    return m


def namespace(name: str = "prod-core") -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def project() -> Manifest:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": {"name": "sophia", "namespace": "argocd"},
            "spec": {"sourceRepos": ["https://git.example/deploy.git"],
                     "destinations": [{"name": "k3s", "namespace": "prod-core"}],
                     "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]}}


def application(name: str, wave: str) -> Manifest:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", "annotations": {"argocd.argoproj.io/sync-wave": wave}},
            "spec": {"project": "sophia", "source": {"path": f"dist/production/{name}"}}}


def hpa(max_replicas: int, target: str = "api", ns: str = "prod-core") -> Manifest:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": target, "namespace": ns},
            "spec": {"minReplicas": 1, "maxReplicas": max_replicas,
                     "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}}}


def hardened() -> Manifest:
    """`deployment()` with the restricted profile's settings, as sophia writes them (pod and container level)."""
    def harden(d: Manifest) -> None:
        pod = d["spec"]["template"]["spec"]
        pod["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        pod["containers"][0]["securityContext"] = {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    return edit(deployment(), harden)


def _security(m: Manifest, container: int = 0) -> Manifest:
    context: Manifest = m["spec"]["template"]["spec"]["containers"][container]["securityContext"]
    return context


def _pod_security(m: Manifest) -> Manifest:
    context: Manifest = m["spec"]["template"]["spec"]["securityContext"]
    return context


def _weaken_everything(d: Manifest) -> None:
    _security(d).update(allowPrivilegeEscalation=True, readOnlyRootFilesystem=False, privileged=True,
                        capabilities={"add": ["NET_ADMIN"]}, seccompProfile={"type": "Unconfined"})


def tree(*entries: tuple[str, Manifest]) -> dict[str, str]:
    """`{path: canonical YAML}` from (path, manifest) pairs."""
    return {path: canonical(m) for path, m in entries}


def _container(m: Manifest) -> Manifest:
    container: Manifest = m["spec"]["template"]["spec"]["containers"][0]
    return container


def _claim_requests(m: Manifest) -> Manifest:
    requests: Manifest = m["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]
    return requests


def edit(m: Manifest, change: Callable[[Manifest], None]) -> Manifest:
    out = copy.deepcopy(m)
    change(out)
    return out


# -- kinds of change -------------------------------------------------------------------------------------

BASE = tree(("production/core/Deployment-api.yaml", deployment()), ("production/core/Service-api.yaml", service()),
            ("production/SUMMARY.md", {"not": "read"}))


def test_identical_trees_have_no_differences() -> None:
    report = compare(BASE, dict(BASE))
    assert not report.has_differences and report.risks == []


def test_added_changed_removed_are_found_per_environment_and_app() -> None:
    new = tree(("production/core/Deployment-api.yaml", deployment(replicas=3)),
               ("production/web/Service-web.yaml", service("web", "prod-web")))
    report = compare(BASE, new)
    got = [(c.status, c.env, c.app, c.key.label(), c.fields) for c in report.changes]
    assert got == [
        ("changed", "production", "core", "Deployment.apps prod-core/api", ("spec.replicas",)),
        ("removed", "production", "core", "Service prod-core/api", ()),
        ("added", "production", "web", "Service prod-web/web", ()),
    ]
    assert [(r.env, r.app, r.added, r.changed, r.removed) for r in report.summary()] == [
        ("production", "core", 0, 1, 1), ("production", "web", 1, 0, 0)]


def test_a_moved_file_with_the_same_identity_is_a_change_not_add_and_remove() -> None:
    new = tree(("production/web/Deployment-api.yaml", deployment()), ("production/core/Service-api.yaml", service()))
    [change] = compare(BASE, new).changes
    assert (change.status, change.moved, change.old and change.old.app, change.app) == ("changed", True, "core", "web")


def test_the_same_name_in_two_environments_is_two_objects() -> None:
    old = tree(("production/core/Service-api.yaml", service()), ("development/core/Service-api.yaml", service()))
    new = tree(("production/core/Service-api.yaml", service()))
    [change] = compare(old, new).changes
    assert (change.status, change.env) == ("removed", "development")


def test_formatting_alone_is_no_change_and_the_diff_is_field_level() -> None:
    m = deployment()
    same = {"production/core/Deployment-api.yaml": yaml.safe_dump(m, sort_keys=False, default_flow_style=True)}
    assert not compare(tree(("production/core/Deployment-api.yaml", m)), same).has_differences
    changed = tree(("production/core/Deployment-api.yaml", edit(m, lambda d: _container(d).update(image="api:2"))))
    [change] = compare(tree(("production/core/Deployment-api.yaml", m)), changed).changes
    assert change.fields == ("spec.template.spec.containers[api].image",)
    assert [ln for ln in change.diff if ln.startswith(("-", "+"))] == [
        "--- a/production/core/Deployment-api.yaml", "+++ b/production/core/Deployment-api.yaml",
        "-      - image: api:1", "+      - image: api:2"]


def test_environment_filter_and_unknown_environment() -> None:
    old = tree(("production/core/Service-api.yaml", service()), ("development/core/Service-api.yaml", service()))
    assert [c.env for c in compare(old, {}, environments=["development"]).changes] == ["development"]
    with pytest.raises(DiffError, match="unknown environment"):
        compare(old, {}, environments=["staging"])


def test_unreadable_and_duplicate_objects_are_all_reported() -> None:
    bad = {"production/core/a.yaml": "kind: [", "production/core/b.yaml": "- 1\n",
           **tree(("production/core/c.yaml", service()), ("production/web/d.yaml", service()))}
    with pytest.raises(DiffError) as err:
        compare({}, bad, new_prefix="dist/")
    assert err.value.render().splitlines() == [
        "dist/production/core/a.yaml: not valid YAML: while parsing a flow node",
        "dist/production/core/b.yaml: not a Kubernetes object (kind and metadata.name are required)",
        "dist/production/web/d.yaml: Service prod-core/api is also defined in production/core/c.yaml",
        "    hint: Argo CD would fight over it; keep one definition",
        "error: cannot compare: 3 file(s) below dist/ are not readable manifests",
    ]


_PATHS = [f"{env}/{app}/Deployment-{name}.yaml" for env in ("production", "dev") for app in ("core", "web") for name in ("a", "b")]
_POOL = st.dictionaries(
    st.sampled_from(_PATHS),
    st.integers(min_value=0, max_value=3), max_size=8)


def _deployments(spec: dict[str, int]) -> dict[str, str]:
    return tree(*((p, deployment(p.rsplit("-", 1)[1][:-5], replicas=r)) for p, r in spec.items()))


@given(_POOL, _POOL)
def test_comparing_both_ways_mirrors_the_changes(a: dict[str, int], b: dict[str, int]) -> None:
    """Identity ignores the app folder, so draw each name once per environment before comparing."""
    def unique(spec: dict[str, int]) -> dict[str, int]:
        seen: dict[tuple[str, str], str] = {}
        for p in sorted(spec):
            seen.setdefault((p.split("/")[0], p.rsplit("/", 1)[1]), p)
        return {p: spec[p] for p in seen.values()}

    old, new = _deployments(unique(a)), _deployments(unique(b))
    assert not compare(old, old).has_differences
    forth, back = compare(old, new).changes, compare(new, old).changes
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((c.env, c.key, flip[c.status]) for c in forth) == sorted((c.env, c.key, c.status) for c in back)


# -- risks -------------------------------------------------------------------------------------------------

DEP = "production/core/Deployment-api.yaml"
STS = "production/data/StatefulSet-postgres.yaml"
PVC = "production/data/PersistentVolumeClaim-cache.yaml"
SVC = "production/core/Service-api.yaml"
NS = "production/core/Namespace-prod-core.yaml"
PROJ = "production/argocd/AppProject-sophia.yaml"
HPA = "production/core/HorizontalPodAutoscaler-api.yaml"


def _apps(core: str, data: str) -> dict[str, str]:
    return tree(("production/argocd/Application-core.yaml", application("core", core)),
                ("production/argocd/Application-data.yaml", application("data", data)))


RISKS: list[tuple[str, dict[str, str], dict[str, str], list[tuple[str, str, str]]]] = [
    ("deployment-selector", tree((DEP, deployment())),
     tree((DEP, edit(deployment(), lambda d: d["spec"]["selector"]["matchLabels"].update(tier="x")))),
     [("immutable-field", "Deployment.apps prod-core/api", "immutable spec.selector changes: spec.selector.matchLabels.tier")]),
    ("statefulset-service-name", tree((STS, statefulset())), tree((STS, edit(statefulset(), lambda d: d["spec"].update(serviceName="pg")))),
     [("immutable-field", "StatefulSet.apps prod-data/postgres", "immutable spec.serviceName changes (postgres-headless -> pg)")]),
    ("statefulset-claim-size", tree((STS, statefulset())),
     tree((STS, edit(statefulset(), lambda d: _claim_requests(d).update(storage="80Gi")))),
     [("immutable-field", "StatefulSet.apps prod-data/postgres",
       "immutable spec.volumeClaimTemplates changes: spec.volumeClaimTemplates[data].spec.resources.requests.storage")]),
    ("pvc-storage-class", tree((PVC, pvc())), tree((PVC, edit(pvc(), lambda d: d["spec"].update(storageClassName="fast")))),
     [("immutable-field", "PersistentVolumeClaim prod-data/cache", "immutable spec.storageClassName changes (local-path -> fast)")]),
    ("service-headless", tree((SVC, service())), tree((SVC, service(cluster_ip="None"))),
     [("immutable-field", "Service prod-core/api", "immutable spec.clusterIP changes (unset -> None)")]),
    ("service-selector-is-fine", tree((SVC, service())),
     tree((SVC, edit(service(), lambda d: d["spec"].update(selector={"app": "b"})))), []),
    ("statefulset-removed", tree((STS, statefulset())), {},
     [("data-loss", "StatefulSet.apps prod-data/postgres", "StatefulSet removed: its volumes and their data can be lost")]),
    ("statefulset-renamed", tree((STS, statefulset())), tree(("production/data/StatefulSet-pg.yaml", statefulset("pg"))),
     [("data-loss", "StatefulSet.apps prod-data/postgres",
       "StatefulSet removed (renamed to pg?): its volumes and their data can be lost")]),
    ("pvc-removed", tree((PVC, pvc())), {},
     [("data-loss", "PersistentVolumeClaim prod-data/cache", "PersistentVolumeClaim removed: its volumes and their data can be lost")]),
    ("claim-templates-disappear", tree((STS, statefulset())),
     tree((STS, edit(statefulset(), lambda d: d["spec"].pop("volumeClaimTemplates")))),
     [("data-loss", "StatefulSet.apps prod-data/postgres", "volume claim template(s) data disappear"),
      ("immutable-field", "StatefulSet.apps prod-data/postgres",
       "immutable spec.volumeClaimTemplates changes: spec.volumeClaimTemplates")]),
    ("namespace-deleted", tree((NS, namespace())), {},
     [("namespace-deletion", "Namespace prod-core", "Namespace removed: Argo CD prunes it and Kubernetes deletes every object in it")]),
    ("project-new-repo", tree((PROJ, project())), tree((PROJ, edit(project(), lambda d: d["spec"]["sourceRepos"].append("https://evil.example/x.git")))),
     [("project-widened", "AppProject.argoproj.io argocd/sophia", "AppProject widened: sourceRepos gains https://evil.example/x.git")]),
    ("project-wildcard-destination", tree((PROJ, project())),
     tree((PROJ, edit(project(), lambda d: d["spec"]["destinations"].__setitem__(0, {"name": "k3s", "namespace": "*"})))),
     [("project-widened", "AppProject.argoproj.io argocd/sophia",
       "AppProject widened: destinations gains {name=k3s, namespace=*}; new wildcard(s) at spec.destinations[].namespace=*")]),
    ("project-cluster-kind", tree((PROJ, project())),
     tree((PROJ, edit(project(), lambda d: d["spec"]["clusterResourceWhitelist"].append(
         {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"})))),
     [("project-widened", "AppProject.argoproj.io argocd/sophia",
       "AppProject widened: clusterResourceWhitelist gains {group=rbac.authorization.k8s.io, kind=ClusterRole}")]),
    ("project-narrowed-is-fine", tree((PROJ, project())), tree((PROJ, edit(project(), lambda d: d["spec"].update(sourceRepos=[])))), []),
    ("application-waves-flip", _apps("1", "0"), _apps("1", "2"),
     [("sync-wave-inversion", "Application.argoproj.io argocd/data", "sync-wave 0 -> 2: now syncs after Application core")]),
    ("object-waves-flip", tree((DEP, deployment(wave="-1")), (SVC, service())), tree((DEP, deployment(wave="1")), (SVC, service())),
     [("sync-wave-inversion", "Deployment.apps prod-core/api", "sync-wave -1 -> 1: now syncs after Service api")]),
    ("waves-kept-in-order-are-fine", _apps("1", "0"), _apps("5", "0"), []),
    ("gpu-grows", tree((DEP, deployment(gpu=1))), tree((DEP, deployment(gpu=1, replicas=3))),
     [("gpu-growth", "Deployment.apps prod-core/api", "GPU request grows from 2 to 3 nvidia.com/gpu")]),
    ("gpu-new-workload", {}, tree((DEP, deployment(gpu=2, replicas=1))),
     [("gpu-growth", "Deployment.apps prod-core/api", "GPU request grows from 0 to 2 nvidia.com/gpu")]),
    ("gpu-counts-hpa-max", tree((DEP, deployment(gpu=1)), (HPA, hpa(2))), tree((DEP, deployment(gpu=1)), (HPA, hpa(4))),
     [("gpu-growth", "Deployment.apps prod-core/api", "GPU request grows from 2 to 4 nvidia.com/gpu")]),
    ("gpu-shrinks-is-fine", tree((DEP, deployment(gpu=2))), tree((DEP, deployment(gpu=1))), []),
    ("replicas-to-zero", tree((DEP, deployment(replicas=None))), tree((DEP, deployment(replicas=0))),
     [("scale-to-zero", "Deployment.apps prod-core/api", "spec.replicas drops to 0 (was 1)")]),
    ("hpa-max-to-zero", tree((HPA, hpa(3))), tree((HPA, hpa(0))),
     [("scale-to-zero", "HorizontalPodAutoscaler.autoscaling prod-core/api", "spec.maxReplicas drops to 0 (was 3)")]),
    ("run-as-non-root-removed", tree((DEP, hardened())),
     tree((DEP, edit(hardened(), lambda d: (_security(d).pop("runAsNonRoot"), _pod_security(d).pop("runAsNonRoot"))))),
     [("hardening-weakened", "Deployment.apps prod-core/api", "hardening weakened: api: runAsNonRoot true -> unset")]),
    ("run-as-non-root-still-inherited-is-fine", tree((DEP, hardened())),
     tree((DEP, edit(hardened(), lambda d: _security(d).pop("runAsNonRoot")))), []),
    ("every-hardening-weakened", tree((DEP, hardened())), tree((DEP, edit(hardened(), _weaken_everything))),
     [("hardening-weakened", "Deployment.apps prod-core/api",
       "hardening weakened: api: allowPrivilegeEscalation false -> true; api: readOnlyRootFilesystem true -> false; "
       "api: privileged unset -> true; api: capabilities.drop loses ALL; api: capabilities.add gains NET_ADMIN; "
       "api: seccompProfile RuntimeDefault -> Unconfined")]),
    ("seccomp-removed-at-both-levels", tree((DEP, hardened())),
     tree((DEP, edit(hardened(), lambda d: (_security(d).pop("seccompProfile"), _pod_security(d).pop("seccompProfile"))))),
     [("hardening-weakened", "Deployment.apps prod-core/api", "hardening weakened: api: seccompProfile RuntimeDefault -> unset")]),
    ("hardening-added-is-fine", tree((DEP, deployment())), tree((DEP, hardened())), []),
    ("moved-between-apps", tree((DEP, deployment())), tree(("production/web/Deployment-api.yaml", deployment())),
     [("app-move", "Deployment.apps prod-core/api", "moves from application folder core to web")]),
]


@pytest.mark.parametrize(("old", "new", "expected"), [r[1:] for r in RISKS], ids=[r[0] for r in RISKS])
def test_risk_flags(old: dict[str, str], new: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    risks = compare(old, new).risks
    assert sorted((r.code, r.key.label(), r.message) for r in risks) == sorted(expected)
    assert all(r.hint for r in risks)


def test_a_patch_removing_run_as_non_root_is_a_risk(tmp_path: Path) -> None:
    """The case that once reported 0 risks: a service's `patches:` removing runAsNonRoot from sophia's own pod."""
    from sophia.pipeline import compile_tree

    basic = tmp_path / "environments"
    shutil.copytree(REPO / "tests/fixtures/envs/basic", basic)
    before = compile_tree(basic)
    catalog = basic / "catalog.yaml"
    anchor = "      callsLlm: true\n"
    assert catalog.read_text().count(anchor) == 1
    catalog.write_text(catalog.read_text().replace(anchor, anchor + (
        "      patches:\n        - target: {kind: Deployment, name: api}\n          operations:\n"
        "            - {op: remove, path: /spec/template/spec/securityContext/runAsNonRoot}\n"
        "            - {op: remove, path: /spec/template/spec/containers/0/securityContext/runAsNonRoot}\n")))
    risks = compare(before, compile_tree(basic)).risks
    assert [(r.code, r.key.label(), r.message) for r in risks] == [
        ("hardening-weakened", "Deployment.apps staging-apps/api", "hardening weakened: api: runAsNonRoot true -> unset")]


# -- label-only changes ----------------------------------------------------------------------------------

def _labelled(m: Manifest, **labels: str) -> Manifest:
    return edit(m, lambda d: d["metadata"].setdefault("labels", {}).update(labels))


def _v(m: Manifest, version: str, service: str = "api") -> Manifest:
    return _labelled(m, **{"app.kubernetes.io/name": service, "app.kubernetes.io/version": version})


def test_label_only_changes_are_one_line_per_service_and_every_other_change_is_in_full() -> None:
    old = tree((DEP, _v(deployment(), "1.2.3")), (SVC, _v(service(), "1.2.3")), (HPA, _v(hpa(4), "1.2.3")),
               ("production/core/Service-web.yaml", _v(service("web"), "7", "web")),
               ("production/core/ConfigMap-plain.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}}))
    new = tree((DEP, edit(_v(deployment(), "1.2.4"), lambda d: _container(d).update(image="api:2"))),
               (SVC, _v(service(), "1.2.4")), (HPA, _v(hpa(4), "1.2.4")),
               ("production/core/Service-web.yaml", _labelled(_v(service("web"), "7", "web"), team="search")),
               ("production/core/ConfigMap-plain.yaml", _labelled(
                   {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}}, team="search")))
    full, relabelled = compare(old, new).details("production", "core")
    assert [c.key.label() for c in full] == ["Deployment.apps prod-core/api"]
    assert [(g.service, g.describe()) for g in relabelled] == [
        ("", "1 object: only labels changed (team unset -> search)"),
        ("api", "2 objects: only labels changed (app.kubernetes.io/version 1.2.3 -> 1.2.4)"),
        ("web", "1 object: only labels changed (team unset -> search)"),
    ]


def test_a_label_only_change_that_moves_or_has_a_risk_is_shown_in_full() -> None:
    old = tree((DEP, _v(deployment(), "1")), (SVC, _v(service(), "1")))
    moved = compare(old, tree((DEP, _v(deployment(), "1")), ("production/web/Service-api.yaml", _v(service(), "2"))))
    assert moved.details("production", "web") == (moved.changes_of("production", "web"), [])
    relabelled = compare(old, tree((DEP, _v(deployment(), "1")), (SVC, _v(service(), "2"))))
    [change] = relabelled.changes
    assert relabelled.details("production", "core")[0] == []
    risky = DiffReport("a", "b", relabelled.changes, [Risk("production", "core", change.key, "some-risk", "m", "h")])
    assert risky.details("production", "core") == ([change], [])


# -- rendering -------------------------------------------------------------------------------------------

def _risky_report() -> Any:
    old = tree((STS, statefulset()), (DEP, deployment()), (SVC, service()))
    new = tree((DEP, deployment(replicas=0)), (SVC, service()), ("production/web/Service-web.yaml", service("web", "prod-web")))
    return compare(old, new, old_label="HEAD", new_label="working tree", old_prefix="HEAD:dist/", new_prefix="dist/")


def test_markdown_has_risks_on_top_a_summary_table_and_folded_diffs() -> None:
    md = render_markdown(_risky_report())
    lines = md.splitlines()
    assert lines[0] == "## sophia diff: `HEAD` → working tree"
    assert lines.index("### ⚠️ Risks (2)") < lines.index("### Summary") < lines.index("### production")
    assert ("- **data-loss** `production/data` `StatefulSet.apps prod-data/postgres`: "
            "StatefulSet removed: its volumes and their data can be lost  ") in lines
    assert any(ln.startswith("  _hint:_ ") for ln in lines)
    table = lines[lines.index("### Summary") + 2: lines.index("### Summary") + 7]
    assert table == [
        "| Environment | Application | Added | Changed | Removed | Risks |",
        "|---|---|---:|---:|---:|---:|",
        "| production | core | 0 | 1 | 0 | ⚠️ 1 |",
        "| production | data | 0 | 0 | 1 | ⚠️ 1 |",
        "| production | web | 1 | 0 | 0 | 0 |",
    ]
    assert "<details><summary><code>core</code>: 1 changed, ⚠️ 1 risk(s)</summary>" in lines
    assert md.count("<details>") == md.count("</details>") == 3
    start = lines.index("```diff")
    assert lines[start + 1: start + 3] == ["--- HEAD:dist/production/core/Deployment-api.yaml",
                                           "+++ dist/production/core/Deployment-api.yaml"]
    assert "-  replicas: 2" in lines and "+  replicas: 0" in lines
    assert "- ➖ removed `StatefulSet.apps prod-data/postgres` (Argo CD will prune it)" in lines


def test_markdown_fence_outgrows_backticks_in_the_content() -> None:
    def config(value: str) -> dict[str, str]:
        manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": value}}
        return tree(("production/core/ConfigMap-x.yaml", manifest))

    old, new = config("1"), config("```")
    assert "````diff" in render_markdown(compare(old, new))


def test_markdown_leaves_the_diffs_out_when_too_long_for_a_comment() -> None:
    report = _risky_report()
    full, short = render_markdown(report), render_markdown(report, max_chars=500)
    assert "```diff" in full and "```diff" not in short
    assert "> The diffs are left out to fit in one comment; run `sophia diff` locally to see them." in short
    assert "### ⚠️ Risks (2)" in short and "| production | core | 0 | 1 | 0 | ⚠️ 1 |" in short


def test_text_is_plain_without_colour_and_styled_with_it() -> None:
    report = _risky_report()
    plain = render_text(report, color=False)
    assert "\x1b[" not in plain
    assert "    - StatefulSet.apps prod-data/postgres  (Argo CD will prune it)" in plain.splitlines()
    assert plain.splitlines()[-1] == "1 added, 1 changed, 1 removed, 2 risk(s) in 1 environment(s)"
    assert "\x1b[" in render_text(report, color=True)
    assert render_text(compare({}, {}), color=False).splitlines()[-1] == "no differences"


# -- git and the command ------------------------------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    git(path, "config", "commit.gpgsign", "false")
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_read_dist_reads_every_yaml_file_at_a_revision(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r")
    write(repo, {"dist/" + p: t for p, t in BASE.items()} | {"other/x.yaml": "a: 1\n"})
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "dist/production/core/Service-api.yaml").unlink()  # the working tree is not read
    rev = resolve(repo / "dist", "HEAD", Path("dist"))
    assert read_dist(rev) == {p: t for p, t in BASE.items() if p.endswith(".yaml")}
    with pytest.raises(DiffError, match="'nope' is not a commit"):
        resolve(repo, "nope", Path("dist"))
    with pytest.raises(DiffError, match="not inside a git repository"):
        resolve(tmp_path, "HEAD", Path("dist"))


@pytest.fixture
def fake_compile(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Stand in for `compile_tree`: the test sets what a synth would produce."""
    produced: dict[str, str] = dict(BASE)
    monkeypatch.setattr("sophia.pipeline.compile_tree", lambda _environments: dict(produced))
    return produced


def _committed_repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo")
    write(repo, {"dist/" + p: t for p, t in BASE.items()})
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "dist")
    return repo


def test_exit_0_when_nothing_changes(tmp_path: Path, fake_compile: dict[str, str]) -> None:
    result = CliRunner().invoke(diff, ["--repo", str(_committed_repo(tmp_path))])
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, "no differences")


def test_exit_1_on_differences_in_both_formats(tmp_path: Path, fake_compile: dict[str, str]) -> None:
    repo = _committed_repo(tmp_path)
    del fake_compile["production/core/Service-api.yaml"]
    result = CliRunner().invoke(diff, ["--repo", str(repo)])
    assert result.exit_code == 1
    assert "    - Service prod-core/api  (Argo CD will prune it)" in result.output.splitlines()
    result = CliRunner().invoke(diff, ["--repo", str(repo), "--format", "markdown", "production"])
    assert result.exit_code == 1 and "| production | core | 0 | 0 | 1 | 0 |" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--against", "no-such-ref"], "error: 'no-such-ref' is not a commit in"),
    (["staging"], "error: unknown environment(s): staging (known: production)"),
    (["--dist", ".."], "error: --dist must name a folder inside the repository"),
], ids=["bad-ref", "unknown-env", "dist-outside"])
def test_exit_2_on_errors(tmp_path: Path, fake_compile: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(diff, ["--repo", str(_committed_repo(tmp_path)), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_exit_2_outside_a_repository(tmp_path: Path, fake_compile: dict[str, str]) -> None:
    result = CliRunner().invoke(diff, ["--repo", str(tmp_path)])
    assert result.exit_code == 2 and "is not inside a git repository" in result.output


def test_exit_2_on_a_compile_error(tmp_path: Path) -> None:
    repo = _committed_repo(tmp_path)
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / "production.yaml").write_text("apiVersion: sophia.ai/v1alpha1\nkind: Nonsense\n")
    result = CliRunner().invoke(diff, ["--repo", str(repo), "--environments", str(envs)])
    assert result.exit_code == 2 and "Traceback" not in result.output and result.output.strip()


@pytest.mark.slow
def test_an_image_bump_of_one_service_is_its_workload_diff_and_one_line_for_its_relabelled_objects(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real definitions: production's backend gets a new tag, in both output formats."""
    from sophia.pipeline import synth

    repo = init_repo(tmp_path / "real")
    shutil.copytree(REPO / "environments", repo / "environments")
    synth(repo / "environments", repo / "dist")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "as in main")
    release = repo / "environments/releases/production.yaml"
    old = yaml.safe_load(release.read_text())["spec"]["images"]["backend"]["tag"]
    line = f'    backend: {{tag: "{old}"}}\n'
    assert line in release.read_text()
    release.write_text(release.read_text().replace(line, '    backend: {tag: "2099.01.01"}\n'))
    monkeypatch.chdir(repo)

    text = CliRunner().invoke(diff, ["--no-color"])
    assert text.exit_code == 1, text.output
    lines = text.output.splitlines()
    assert [ln for ln in lines if ln.startswith("    ~ ")] == [
        f"    ~ backend: 8 objects: only labels changed (app.kubernetes.io/version {old} -> 2099.01.01)",
        "    ~ Deployment.apps sophia-prod-core/backend",
    ]
    assert [ln.split(":")[-1] for ln in lines if ln.lstrip(" -+").startswith("image: ")] == [old, "2099.01.01"]
    assert lines[-1] == "0 added, 9 changed, 0 removed, 0 risk(s) in 1 environment(s)"

    markdown = CliRunner().invoke(diff, ["--format", "markdown"])
    assert markdown.exit_code == 1, markdown.output
    lines = markdown.output.splitlines()
    assert [ln for ln in lines if ln.startswith(("- ✏️", "- ➕", "- ➖"))] == [
        f"- ✏️ changed `backend`: 8 objects: only labels changed (app.kubernetes.io/version {old} -&gt; 2099.01.01)",
        "- ✏️ changed `Deployment.apps sophia-prod-core/backend`",
    ]
    assert [ln.split(":")[-1] for ln in lines if ln.lstrip(" -+").startswith("image: ")] == [old, "2099.01.01"]
    assert "| production | core | 0 | 9 | 0 | 0 |" in lines


@pytest.mark.slow
def test_end_to_end_on_the_real_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real definitions and dist/, committed; re-synthesized first, since main's dist/ may lag a concurrent edit."""
    from sophia.pipeline import synth

    repo = init_repo(tmp_path / "real")
    shutil.copytree(REPO / "environments", repo / "environments")
    shutil.copytree(REPO / "dist", repo / "dist")
    synth(repo / "environments", repo / "dist")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "as in main")
    monkeypatch.chdir(repo)
    first = CliRunner().invoke(diff, [])
    assert first.exit_code == 0, first.output
    git(repo, "rm", "-q", "dist/production/data/StatefulSet-postgres.yaml")
    git(repo, "commit", "-q", "-m", "drop one file")
    second = CliRunner().invoke(diff, ["--no-color"])
    assert second.exit_code == 1, second.output
    assert "    + StatefulSet.apps sophia-prod-data/postgres  (new)" in second.output.splitlines()
    assert second.output.splitlines()[-1] == "1 added, 0 changed, 0 removed, 0 risk(s) in 1 environment(s)"
