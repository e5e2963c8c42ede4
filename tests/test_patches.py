"""`patches:` on a service: RFC 6902 operations on generated objects, from the catalogue and the
environment, located when they fail, visible in the output, still judged by schema and policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import REPO

from sophia.errors import SpecError
from sophia.pipeline import compile_tree
from sophia.validate import check_paths

BASIC = REPO / "tests/fixtures/envs/basic"

PRE_STOP = """\
      patches:
        - target: {kind: Deployment, name: api}
          operations:
            - {op: add, path: /spec/template/spec/containers/0/lifecycle, value: {preStop: {sleep: {seconds: 5}}}}
            - {op: add, path: /spec/template/spec/terminationGracePeriodSeconds, value: 40}
"""


def _folder(tmp_path: Path, catalog_patch: str = "", env_patch: str = "", waiver: str = "") -> Path:
    root = tmp_path / "environments"
    shutil.copytree(BASIC, root)
    catalog = root / "catalog.yaml"
    anchor = "      callsLlm: true\n"
    text = catalog.read_text()
    assert text.count(anchor) == 1
    catalog.write_text(text.replace(anchor, anchor + catalog_patch + waiver))
    if env_patch:
        staging = root / "staging.yaml"
        staging.write_text(staging.read_text().replace("      env: {LOG_LEVEL: debug}\n", "      env: {LOG_LEVEL: debug}\n" + env_patch))
    return root


def _deployment(files: dict[str, str]) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(files["staging/apps/Deployment-api.yaml"])


def test_catalogue_and_environment_patches_apply_in_order_and_are_marked(tmp_path: Path) -> None:
    env_patch = """\
      patches:
        - target: {kind: Deployment, name: api}
          operations:
            - {op: replace, path: /spec/template/spec/terminationGracePeriodSeconds, value: 60}
        - target: {kind: Service, name: api}
          operations:
            - {op: add, path: /metadata/annotations, value: {team: platform}}
"""
    files = compile_tree(_folder(tmp_path, PRE_STOP, env_patch))
    pod = _deployment(files)["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert pod["terminationGracePeriodSeconds"] == 60, "the environment's patch comes after the catalogue's"
    assert _deployment(files)["metadata"]["annotations"]["sophia.ai/patched"] == (
        "environments/catalog.yaml spec.services.api.patches[0]: add /spec/template/spec/containers/0/lifecycle, "
        "add /spec/template/spec/terminationGracePeriodSeconds; "
        "environments/staging.yaml spec.services.api.patches[0]: replace /spec/template/spec/terminationGracePeriodSeconds")
    assert yaml.safe_load(files["staging/apps/Service-api.yaml"])["metadata"]["annotations"]["team"] == "platform"
    summary = files["staging/SUMMARY.md"]
    assert "| api | Deployment/api | `add /spec/template/spec/containers/0/lifecycle`, " \
           "`add /spec/template/spec/terminationGracePeriodSeconds` | `environments/catalog.yaml` `spec.services.api.patches[0]` |" \
           in summary


def test_lines_added_above_a_patch_leave_the_output_as_it_was(tmp_path: Path) -> None:
    """dist/ is a function of what the files say: the annotation and SUMMARY.md hold no line number."""
    before = compile_tree(_folder(tmp_path / "a", PRE_STOP))
    moved = _folder(tmp_path / "b", PRE_STOP)
    catalog = moved / "catalog.yaml"
    catalog.write_text("# a comment\n# and another\n" + catalog.read_text())
    assert compile_tree(moved) == before
    broken = PRE_STOP.replace("/spec/template/spec/terminationGracePeriodSeconds", "/spec/template/nope/x")
    with pytest.raises(SpecError) as error:
        compile_tree(_folder(tmp_path / "c", broken))
    assert error.value.problems[0].line == 33, "errors keep their line"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ("            - {op: remove, path: /spec/template/spec/nope}\n",
         "remove /spec/template/spec/nope: /spec/template/spec/nope does not exist in Deployment/api"),
        ("            - {op: add, path: /spec/template/spec/foo/bar, value: 1}\n",
         "add /spec/template/spec/foo/bar: /spec/template/spec/foo does not exist in Deployment/api"),
        ("            - {op: replace, path: /spec/template/spec/containers/3/image, value: x}\n",
         "replace /spec/template/spec/containers/3/image: /spec/template/spec/containers/3 does not exist in "
         "Deployment/api: /spec/template/spec/containers has 1 item(s)"),
        ("            - {op: add, path: /spec/revisionHistoryLimit/x, value: 1}\n",
         "add /spec/revisionHistoryLimit/x: /spec/revisionHistoryLimit/x does not exist in Deployment/api: "
         "/spec/revisionHistoryLimit is 5, not an object or a list"),
        ("            - {op: move, from: /spec/nope, path: /spec/revisionHistoryLimit}\n",
         "move from /spec/nope to /spec/revisionHistoryLimit: /spec/nope does not exist in Deployment/api"),
        ("            - {op: copy, from: /spec/revisionHistoryLimit, path: /spec/nope/limit}\n",
         "copy from /spec/revisionHistoryLimit to /spec/nope/limit: /spec/nope does not exist in Deployment/api"),
        ("            - {op: move, from: /spec/template, path: /spec/template/spec/copy}\n",
         "move from /spec/template to /spec/template/spec/copy: /spec/template cannot move into itself "
         "(/spec/template/spec/copy)"),
        ("            - {op: test, path: /spec/revisionHistoryLimit, value: 3}\n",
         "test /spec/revisionHistoryLimit: the value there is 5, not 3"),
        ("            - {op: test, path: /spec/template/spec/nope, value: 3}\n",
         "test /spec/template/spec/nope: /spec/template/spec/nope does not exist in Deployment/api"),
    ],
    ids=["remove-missing", "add-under-missing", "index-out-of-range", "inside-a-scalar", "move-from-missing",
         "copy-under-missing", "move-into-itself", "failed-test", "test-missing"],
)
def test_an_operation_that_fails_is_located(tmp_path: Path, patch: str, expected: str) -> None:
    text = "      patches:\n        - target: {kind: Deployment, name: api}\n          operations:\n" + patch
    with pytest.raises(SpecError) as error:
        compile_tree(_folder(tmp_path, text))
    assert [p.render().splitlines()[0] for p in error.value.problems] == [
        f"environments/catalog.yaml:32: spec.services.api.patches[0].operations[0]: {expected}"]


def test_a_target_that_is_not_generated_is_located(tmp_path: Path) -> None:
    text = "      patches:\n        - target: {kind: Deployment, name: apii}\n          operations:\n" \
           "            - {op: remove, path: /spec/replicas}\n"
    with pytest.raises(SpecError) as error:
        compile_tree(_folder(tmp_path, text))
    [problem] = error.value.problems
    assert (problem.file, problem.line, problem.path, problem.message) == (
        "environments/catalog.yaml", 30, "spec.services.api.patches[0].target",
        "Deployment/apii is not an object sophia generates in staging/apps")
    assert problem.hint == "Deployment objects here: api, inference, llm-gateway, queue-worker"


def _write(files: dict[str, str], out: Path) -> None:
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)


NON_ROOT = """\
      patches:
        - target: {kind: Deployment, name: api}
          operations:
            - {op: remove, path: /spec/template/spec/securityContext/runAsNonRoot}
            - {op: remove, path: /spec/template/spec/containers/0/securityContext/runAsNonRoot}
"""


def test_a_patch_that_weakens_the_hardening_fails_unless_waived_and_the_waiver_lowers_the_namespace(tmp_path: Path) -> None:
    """Without a waiver: the policy and the API server (the namespace enforces PodSecurity "restricted")
    refuse it. With one: its namespace enforces the level the waived rule needs (baseline), saying why,
    so the policy and the API server both accept what the service declared."""
    out = tmp_path / "dist"
    _write(compile_tree(_folder(tmp_path / "a", NON_ROOT)), out)
    report = check_paths([str(out / "staging/apps")], policy=True, repo_root=tmp_path)
    assert [(f.name, f.rule) for f in report.errors if f.kind == "Deployment"] == [("api", "API"), ("api", "SOPHIA-PSS-001")]
    assert [f.message for f in report.errors if f.rule == "API"] == [
        'namespace staging-apps enforces PodSecurity "restricted:latest": pods would be refused: runAsNonRoot != true '
        '(pod or container "api" must set securityContext.runAsNonRoot=true)']

    waiver = "      waivers: {SOPHIA-PSS-001: the vendor image must start as root to bind its port}\n"
    waived_out = tmp_path / "waived"
    files = compile_tree(_folder(tmp_path / "b", NON_ROOT, waiver=waiver))
    _write(files, waived_out)
    report = check_paths([str(waived_out / "staging/apps")], policy=True, repo_root=tmp_path)
    assert [f for f in report.errors if f.kind in ("Deployment", "Namespace")] == []
    assert [(f.name, f.rule, f.waived) for f in report.waived] == [
        ("api", "SOPHIA-PSS-001", "the vendor image must start as root to bind its port")]
    namespace = yaml.safe_load(files["staging/apps/Namespace-staging-apps.yaml"])["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespace["annotations"]["sophia.ai/pod-security"] == "baseline, for the waivers of api: SOPHIA-PSS-001"