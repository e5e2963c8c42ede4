"""Argo CD's verdict in `sophia validate`: an object of a folder an Application syncs is refused when the
Application's AppProject does not permit its kind or its namespace; so is an Application whose project does
not permit its destination or repository. Hand-written manifests and extensions are judged the same way."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import REPO, needs_crds, pinned_crds

from sophia.pipeline import compile_tree
from sophia.validate import check_paths, validate_paths
from sophia.validate.argocd import _glob_match
from sophia.validate.catalog import CLUSTER_SCOPED, SchemaCatalog
from sophia.validate.rule import PolicyContext

REPO_URL = "https://git.example.com/platform.git"
PROJECT = f"""\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {{name: sophia-staging, namespace: argocd}}
spec:
  sourceRepos: [{REPO_URL}]
  destinations:
    - {{name: test-cluster, namespace: argocd}}
    - {{name: test-cluster, namespace: staging-apps}}
  clusterResourceWhitelist:
    - {{group: "", kind: Namespace}}
"""
APPLICATION = f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: staging-apps, namespace: argocd}}
spec:
  project: sophia-staging
  destination: {{name: test-cluster, namespace: staging-apps}}
  source: {{repoURL: {REPO_URL}, path: dist/staging/apps, targetRevision: main}}
"""
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: staging-apps}\ndata: {a: b}\n"
CLUSTER_ROLE = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n"
                "rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n")
APPS = "Application staging-apps syncs dist/staging/apps/"


def _repo(tmp_path: Path, objects: dict[str, str], project: str = PROJECT, application: str = APPLICATION) -> Path:
    """A repository holding dist/staging/argocd/ (the project and the Application) and the given objects."""
    (tmp_path / ".git").mkdir(parents=True)
    files = {"dist/staging/argocd/AppProject-sophia-staging.yaml": project,
             "dist/staging/argocd/Application-staging-apps.yaml": application, **objects}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    return tmp_path / "dist"


def _argocd(dist: Path, repositories: frozenset[str] | None = None) -> list[tuple[str, str, int | None, str]]:
    report = validate_paths([dist], context=PolicyContext(None, repositories))
    return [(f.file.rsplit("/", 1)[-1], f.field, f.line, f.message) for f in report.errors if f.rule == "ARGOCD"]


def test_a_cluster_scoped_kind_the_project_does_not_list_is_refused(tmp_path: Path) -> None:
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterRole-reader.yaml": CLUSTER_ROLE,
                            "dist/staging/apps/ConfigMap-flags.yaml": CONFIG})
    assert _argocd(dist) == [
        ("ClusterRole-reader.yaml", "kind", 2, "Argo CD refuses to sync it: resource rbac.authorization.k8s.io:ClusterRole "
         "is not permitted in project sophia-staging (ClusterRole is cluster-scoped and spec.clusterResourceWhitelist "
         f"does not list it; {APPS})"),
    ]
    [finding] = [f for f in validate_paths([dist]).errors if f.rule == "ARGOCD"]
    assert "clusterResources" in finding.hint and "AppProject sophia-staging" in finding.hint


@pytest.mark.parametrize(("metadata", "field", "line", "namespace"), [
    pytest.param("{name: flags, namespace: kube-system}", "metadata.namespace", 3, "kube-system", id="its-own-namespace"),
    pytest.param("{name: flags}", "", 1, "staging-apps", id="the-applications-namespace"),
])
def test_a_namespace_the_project_does_not_allow_is_refused(tmp_path: Path, metadata: str, field: str, line: int | None,
                                                          namespace: str) -> None:
    application = APPLICATION.replace("namespace: staging-apps}", f"namespace: {namespace}}}")
    project = PROJECT.replace("namespace: staging-apps}", "namespace: staging-web}")
    dist = _repo(tmp_path, {"dist/staging/apps/ConfigMap-flags.yaml": CONFIG.replace(
        "{name: flags, namespace: staging-apps}", metadata)}, project, application)
    given = "" if field else ", the Application's destination namespace"
    assert [f for f in _argocd(dist) if f[0] == "ConfigMap-flags.yaml"] == [
        ("ConfigMap-flags.yaml", field, line, f"Argo CD refuses to sync it: namespace {namespace}{given} is not permitted "
         f"in project sophia-staging (spec.destinations; {APPS})"),
    ]


def test_the_application_itself_is_judged(tmp_path: Path) -> None:
    application = APPLICATION.replace("namespace: staging-apps}", "namespace: staging-data}").replace(
        f"repoURL: {REPO_URL}", "repoURL: https://git.example.com/other.git")
    dist = _repo(tmp_path, {}, application=application)
    assert [(field, message) for _, field, _, message in _argocd(dist)] == [
        ("spec.destination", "Argo CD refuses the Application: destination test-cluster/staging-data is not permitted in "
         "project sophia-staging (spec.destinations)"),
        ("spec.source.repoURL", "Argo CD refuses the Application: application repo https://git.example.com/other.git is "
         "not permitted in project sophia-staging (spec.sourceRepos)"),
    ]


def test_what_the_project_permits_passes(tmp_path: Path) -> None:
    project = PROJECT + '    - {group: rbac.authorization.k8s.io, kind: "Cluster*"}\n'
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterRole-reader.yaml": CLUSTER_ROLE,
                            "dist/staging/apps/ConfigMap-flags.yaml": CONFIG,
                            "dist/staging/apps/Namespace-staging-apps.yaml": "apiVersion: v1\nkind: Namespace\n"
                                                                              "metadata: {name: staging-apps}\n"}, project)
    assert _argocd(dist) == []


@pytest.mark.parametrize("lists", [
    pytest.param("  namespaceResourceBlacklist: [{group: '', kind: ConfigMap}]\n", id="blacklisted"),
    pytest.param("  namespaceResourceWhitelist: [{group: apps, kind: '*'}]\n", id="not-whitelisted"),
    pytest.param("  namespaceResourceWhitelist: []\n", id="empty-whitelist"),
])
def test_namespaced_kinds_follow_the_resource_lists(tmp_path: Path, lists: str) -> None:
    dist = _repo(tmp_path, {"dist/staging/apps/ConfigMap-flags.yaml": CONFIG}, PROJECT + lists)
    [(file, field, _, message)] = _argocd(dist)
    assert (file, field) == ("ConfigMap-flags.yaml", "kind")
    assert message.startswith("Argo CD refuses to sync it: resource :ConfigMap is not permitted in project sophia-staging")


def test_folders_no_application_syncs_get_no_finding(tmp_path: Path) -> None:
    dist = _repo(tmp_path, {"dist/staging/web/ClusterRole-reader.yaml": CLUSTER_ROLE,
                            "dist/staging/apps/sub/ClusterRole-reader.yaml": CLUSTER_ROLE})
    assert _argocd(dist) == []
    recursing = APPLICATION.replace("path: dist/staging/apps,", "path: dist/staging/apps, directory: {recurse: true},")
    dist = _repo(tmp_path / "again", {"dist/staging/apps/sub/ClusterRole-reader.yaml": CLUSTER_ROLE}, application=recursing)
    assert [f[0] for f in _argocd(dist)] == ["ClusterRole-reader.yaml"]


def test_only_this_repositorys_folders_are_read(tmp_path: Path) -> None:
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterRole-reader.yaml": CLUSTER_ROLE})
    assert _argocd(dist, frozenset({"https://git.example.com/elsewhere.git"})) == [], "another repository's folder"
    assert len(_argocd(dist, frozenset({REPO_URL}))) == 1


def test_a_kind_of_unknown_scope_is_not_judged(tmp_path: Path) -> None:
    """Without the CRDs, whether a custom kind is namespaced is not known: no guess."""
    issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: acme}\nspec: {selfSigned: {}}\n"
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterIssuer-acme.yaml": issuer})
    assert _argocd(dist) == []


@needs_crds
def test_a_custom_kinds_scope_comes_from_its_pinned_crd(tmp_path: Path) -> None:
    issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: acme}\nspec: {selfSigned: {}}\n"
    monitor = ("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: api, namespace: kube-system}\n"
               "spec: {selector: {matchLabels: {app: api}}, endpoints: [{port: http}]}\n")
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterIssuer-acme.yaml": issuer,
                            "dist/staging/apps/ServiceMonitor-api.yaml": monitor})
    report = validate_paths([dist], pinned_crds(), context=PolicyContext(tmp_path))
    assert [(f.file.rsplit("/", 1)[-1], f.field, f.message.split(" (")[0]) for f in report.errors] == [
        ("ClusterIssuer-acme.yaml", "kind", "Argo CD refuses to sync it: resource cert-manager.io:ClusterIssuer is not "
         "permitted in project sophia-staging"),
        ("ServiceMonitor-api.yaml", "metadata.namespace", "Argo CD refuses to sync it: namespace kube-system is not "
         "permitted in project sophia-staging"),
    ]


BASIC = REPO / "tests/fixtures/envs/basic"


def _compiled(tmp_path: Path, environments: Path) -> Path:
    out = tmp_path / "dist"
    for rel, text in compile_tree(environments).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


def test_a_hand_written_cluster_role_is_refused_for_the_environments_project(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    (root / "manifests/staging/apps").mkdir(parents=True)
    (root / "manifests/staging/apps/rbac.yaml").write_text(CLUSTER_ROLE)
    out = _compiled(tmp_path, root)
    report = check_paths([str(out / "staging")], policy=False, repo_root=tmp_path)
    assert [(f.file.rsplit("/", 1)[-1], f.rule, f.message.split(" (")[0]) for f in report.errors if f.rule == "ARGOCD"] == [
        ("ClusterRole-reader.yaml", "ARGOCD", "Argo CD refuses to sync it: resource rbac.authorization.k8s.io:ClusterRole "
         "is not permitted in project sophia-staging"),
    ]


def test_an_extensions_object_in_another_namespace_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "ext" / "kube_system_extension"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "leak.py").write_text(textwrap.dedent("""\
        import cdk8s

        def extend_application(chart, env, application):
            if application == "apps":
                cdk8s.ApiObject(chart, "leak", api_version="v1", kind="ConfigMap",
                                metadata={"name": "leak", "namespace": "kube-system"})
        """))
    monkeypatch.syspath_prepend(str(tmp_path / "ext"))
    monkeypatch.setenv("SOPHIA_EXTENSIONS", "kube_system_extension")
    out = _compiled(tmp_path, BASIC)
    report = check_paths([str(out / "staging")], policy=False, repo_root=tmp_path)
    assert [(f.file.rsplit("/", 1)[-1], f.field, f.message.split(" (")[0]) for f in report.errors if f.rule == "ARGOCD"] == [
        ("ConfigMap-leak.yaml", "metadata.namespace", "Argo CD refuses to sync it: namespace kube-system is not permitted "
         "in project sophia-staging"),
    ]


def test_the_committed_dist_is_synced_whole_and_permitted() -> None:
    """Every object of dist/ is in a folder one of its Applications syncs, and every project permits it."""
    from sophia.validate import argocd
    from sophia.validate.command import pins_of
    from sophia.validate.documents import read_paths

    loaded = read_paths([REPO / "dist"])
    syncs = argocd.syncs_of(loaded.resources, PolicyContext(REPO, pins_of(REPO / "environments").repositories))
    placed = argocd.placements(loaded.resources, syncs)
    assert [r.file for r in loaded.resources if r not in placed] == []
    catalog = SchemaCatalog()
    assert [f.render() for f in argocd.argocd_findings(loaded.resources, placed, catalog.namespaced)] == []


def test_every_cluster_scoped_kind_is_a_kubernetes_1_33_kind() -> None:
    catalog = SchemaCatalog()
    versions = ("v1", "v1beta1", "v1beta2", "v1alpha1", "v1alpha2", "v1alpha3")
    missing = [(g, k) for g, k in sorted(CLUSTER_SCOPED)
               if not any(catalog.builtin_schema(g, v, k) is not None for v in versions)]
    assert missing == []
    assert catalog.namespaced("rbac.authorization.k8s.io/v1", "ClusterRole") is False
    assert catalog.namespaced("rbac.authorization.k8s.io/v1", "Role") is True
    assert catalog.namespaced("example.com/v1", "Widget") is None


@pytest.mark.parametrize(("pattern", "value", "separator", "matches"), [
    ("*", "anything/at/all", "/", True),
    ("https://github.com/ai-cherry/*", "https://github.com/ai-cherry/sophia-deploy", "/", True),
    ("https://github.com/*", "https://github.com/ai-cherry/sophia-deploy", "/", False),
    ("https://github.com/**", "https://github.com/ai-cherry/sophia-deploy", "/", True),
    ("sophia-{prod,dev}-*", "sophia-prod-core", "", True),
    ("!kube-system", "kube-system", "", False),
    ("!kube-system", "default", "", True),
    ("team-[a-c]", "team-b", "", True),
    ("", "", "", True),
    ("", "core", "", False),
])
def test_globs_match_as_argo_cd_matches_them(pattern: str, value: str, separator: str, matches: bool) -> None:
    assert _glob_match(pattern, value, negation=True, separator=separator) is matches


def test_the_verdict_is_reported_without_waivers(tmp_path: Path) -> None:
    role = CLUSTER_ROLE.replace("metadata: {name: reader}",
                                "metadata: {name: reader, annotations: {sophia.ai/waive.ARGOCD: we know}}")
    dist = _repo(tmp_path, {"dist/staging/apps/ClusterRole-reader.yaml": role})
    report = check_paths([str(dist)], policy=True, repo_root=tmp_path)
    assert {f.rule for f in report.errors} >= {"ARGOCD", "SOPHIA-WAIVE-001"}
    assert yaml.safe_load(role)["kind"] == "ClusterRole"
