"""Hand-written manifests (`environments/manifests/<env>/<application>/*.yaml`): read like environment
files, written into the application's folder, validated like generated objects, refused when they clash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from sophia.errors import CompileError, SpecError
from sophia.pipeline import compile_tree
from sophia.validate import check_paths

BASIC = REPO / "tests/fixtures/envs/basic"
EXTRA = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: feature-flags}
data: {NEW_SEARCH: "on"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-configmaps}
rules:
  - {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
"""


def _folder(tmp_path: Path, files: dict[str, str], namespaces: str = "") -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    for rel, text in files.items():
        (root / "manifests" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "manifests" / rel).write_text(text)
    if namespaces:
        staging = root / "staging.yaml"
        staging.write_text(staging.read_text().replace("namespaces: {apps: staging-apps, data: staging-data}", namespaces))
    return root


def test_hand_written_objects_reach_their_application_folder_and_validate(tmp_path: Path) -> None:
    files = compile_tree(_folder(tmp_path, {"staging/apps/extra.yaml": EXTRA}))
    assert yaml.safe_load(files["staging/apps/ConfigMap-feature-flags.yaml"]) == yaml.safe_load(EXTRA.split("---")[0])
    assert yaml.safe_load(files["staging/apps/Role-read-configmaps.yaml"])["rules"][0]["verbs"] == ["get", "list"]
    out = tmp_path / "dist"
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    report = check_paths([str(out / "staging/apps/ConfigMap-feature-flags.yaml"), str(out / "staging/apps/Role-read-configmaps.yaml")],
                         policy=True, repo_root=tmp_path)
    assert report.ok, [f.render() for f in report.errors]


def test_an_application_of_hand_written_objects_only_gets_its_namespace_and_application(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"staging/tools/flags.yaml": EXTRA.split("---")[0]},
                   namespaces="namespaces: {apps: staging-apps, data: staging-data, tools: staging-tools}")
    files = compile_tree(root)
    assert "staging/tools/ConfigMap-feature-flags.yaml" in files
    assert "staging/tools/Namespace-staging-tools.yaml" in files
    assert "staging/argocd/Application-staging-tools.yaml" in files


def test_a_clash_with_a_generated_object_names_the_file_and_line_and_points_to_patches(tmp_path: Path) -> None:
    clash = EXTRA + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: api-env}\ndata: {A: b}\n"
    with pytest.raises(CompileError) as error:
        compile_tree(_folder(tmp_path, {"staging/apps/clash.yaml": clash}))
    [problem] = error.value.problems
    assert problem.render() == (
        "environments/manifests/staging/apps/clash.yaml:14: ConfigMap/api-env: sophia already generates this object "
        "(staging/apps/ConfigMap-api-env.yaml); a hand-written manifest may not define it again\n"
        "    hint: to change an object sophia generates, give its service `patches:` (RFC 6902 operations on it; "
        "environments/README.md, escape hatches) instead; to add another object, give this one another name")


def test_two_hand_written_objects_for_one_file_name_both(tmp_path: Path) -> None:
    flags = EXTRA.split("---")[0]
    with pytest.raises(CompileError) as error:
        compile_tree(_folder(tmp_path, {"staging/apps/a.yaml": flags, "staging/apps/b.yaml": "# again\n" + flags}))
    [problem] = error.value.problems
    assert problem.render() == (
        "environments/manifests/staging/apps/b.yaml:4: ConfigMap/feature-flags: staging/apps/ConfigMap-feature-flags.yaml "
        "would be written twice: a hand-written manifest (environments/manifests/staging/apps/a.yaml:3) defines it too\n"
        "    hint: give one of them another name")


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        ("prod/apps/x.yaml", EXTRA, "environments/manifests/prod/apps/x.yaml:1: no environment 'prod' for this manifest"),
        ("staging/web/x.yaml", EXTRA, "environments/manifests/staging/web/x.yaml:1: environment 'staging' has no application 'web'"),
        ("staging/apps/x.yaml", "apiVersion: v1\nmetadata: {name: a}\n", "environments/manifests/staging/apps/x.yaml:1: kind: missing kind"),
        ("staging/apps/x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: kube-system}\n",
         "environments/manifests/staging/apps/x.yaml:3: metadata.namespace: namespace 'kube-system': this application's "
         "objects live in 'staging-apps'"),
        ("staging/apps/x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {UPSTREAM: 10.1.2.3}\n",
         "environments/manifests/staging/apps/x.yaml:4: data.UPSTREAM: IP address 10.1.2.3 written as a host"),
        ("staging/x.yaml", EXTRA, "environments/manifests/staging/x.yaml: a hand-written manifest belongs in "
                                  "manifests/<environment>/<application>/<file>.yaml"),
    ],
    ids=["unknown-environment", "unknown-application", "no-kind", "foreign-namespace", "ip-literal", "wrong-folder"],
)
def test_bad_manifests_are_located(tmp_path: Path, rel: str, text: str, expected: str) -> None:
    with pytest.raises(SpecError) as error:
        compile_tree(_folder(tmp_path, {rel: text}))
    assert [p.render().splitlines()[0] for p in error.value.problems] == [expected]
