"""Schema validation: broken manifests are each caught with their own message; good ones pass."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import known_defect

from sophia.validate import CatalogError, UsageError, validate_paths
from sophia.validate.command import policy, validate

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
GOOD = FIXTURES / "good"
OWN_CRDS = FIXTURES / "crds"
CATALOG = os.environ.get("SOPHIA_CRD_SCHEMAS", "")
needs_catalog = pytest.mark.skipif(
    not CATALOG, reason="SOPHIA_CRD_SCHEMAS is unset: point it at a CRDs-catalog folder to check Argo CD/ESO schemas"
)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: core}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: api:1.0
"""


def _write(tmp_path: Path, text: str, name: str = "manifest.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _errors(report: object) -> list[tuple[str, str]]:
    return [(f.field, f.message) for f in report.errors]  # type: ignore[attr-defined]


BROKEN_BUILTIN = [
    (
        DEPLOYMENT.replace("image: api:1.0", "imagee: api:1.0"),
        [("spec.template.spec.containers[0].imagee", 'unknown field "imagee"')],
    ),
    (
        DEPLOYMENT.replace("spec:\n  selector", "spec:\n  replicas: two\n  selector"),
        [("spec.replicas", "expected integer, got string 'two'")],
    ),
    (
        DEPLOYMENT.replace("  selector: {matchLabels: {app: api}}\n", ""),
        [("spec", 'missing required field "selector"')],
    ),
    (
        "apiVersion: example.org/v1\nkind: Gadget\nmetadata: {name: g}\n",
        [("", "no schema for Gadget example.org/v1: not a Kubernetes 1.33 kind and no "
              f"{OWN_CRDS}/example.org/gadget_v1.json in the CRD catalog")],
    ),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\ndata: {b: '2'}\n", [("", "duplicate key 'data'")]),
    ("kind: ConfigMap\nmetadata: {name: c}\n", [("apiVersion", "missing apiVersion")]),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, lables: {a: b}}\n", [("metadata.lables", 'unknown field "lables"')]),
    (
        DEPLOYMENT.replace("image: api:1.0", "image: api:1.0\n          imagee: x\n          ports: [{containerPort: '80'}]"),
        [
            ("spec.template.spec.containers[0].imagee", 'unknown field "imagee"'),
            ("spec.template.spec.containers[0].ports[0].containerPort", "expected integer, got string '80'"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    BROKEN_BUILTIN,
    ids=["unknown-field", "wrong-type", "missing-selector", "unknown-kind", "duplicate-key", "no-apiVersion",
         "metadata-typo", "every-error-reported"],
)
def test_broken_builtin_manifests_are_caught(tmp_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    report = validate_paths([_write(tmp_path, text)], OWN_CRDS)
    assert _errors(report) == expected
    assert not report.ok


def test_errors_carry_file_document_kind_name_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n" + DEPLOYMENT.replace("image:", "imagee:"))
    [finding] = validate_paths([path], OWN_CRDS).errors
    assert (finding.file, finding.document, finding.kind, finding.name, finding.line) == (str(path), 2, "Deployment", "api", 15)


OWN_CRD_CASES = [
    ("spec: {size: 3}", []),
    ("spec: {size: 3, colour: red}", [("spec.colour", 'unknown field "colour"')]),
    ("spec: {size: 3, labels: {tier: web, anything: goes}}", []),
    ("spec: {}", [("spec", 'missing required field "size"')]),
    ("spec: {size: 3}\nmetadata: {name: w, lables: {}}", [("metadata.lables", 'unknown field "lables"')]),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    OWN_CRD_CASES,
    ids=["valid", "closed-by-strict", "preserve-unknown-fields-stays-open", "required", "metadata-is-objectmeta"],
)
def test_own_crd_schema_is_applied_strictly(tmp_path: Path, body: str, expected: list[tuple[str, str]]) -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\n"
    text += body if "metadata" in body else "metadata: {name: w}\n" + body
    assert _errors(validate_paths([_write(tmp_path, text + "\n")], OWN_CRDS)) == expected


FILE_PROBLEMS = [
    (b"\x00\x01\x02", "binary content (a NUL byte) in a YAML file"),
    (b"\xff\xfe\x00", "not UTF-8 text (byte 0: 0xff)"),
    (b"a: [1, 2\n", "YAML syntax error: "),  # the rest is libyaml's wording
]


@pytest.mark.parametrize(("data", "message"), FILE_PROBLEMS, ids=["binary", "not-utf8", "bad-yaml"])
def test_unreadable_files_are_reported_not_raised(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(data)
    report = validate_paths([path], OWN_CRDS)
    assert [(f.document, f.rule, f.message[: len(message)]) for f in report.errors] == [(0, "YAML", message)]
    assert report.summary() == "1 resources, 0 valid, 1 invalid, 1 errors"


def test_bad_path_and_missing_catalog_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        validate_paths([tmp_path / "nope"], OWN_CRDS)
    with pytest.raises(CatalogError, match="CRD schema catalog folder not found"):
        validate_paths([tmp_path], tmp_path / "no-catalog")


@needs_catalog
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  project: p\n"
            "  destination: {namespace: x}\n  source: {repoURL: r, path: p}\n  syncPolicy: {automated: {selfheal: true}}\n",
            [("spec.syncPolicy.automated.selfheal", 'unknown field "selfheal"')],
        ),
        (
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec:\n"
            "  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  refreshIntervall: 1h\n",
            [("spec.refreshIntervall", 'unknown field "refreshIntervall"')],
        ),
    ],
    ids=["argocd-selfheal", "externalsecret-typo"],
)
def test_broken_custom_resources_are_caught(tmp_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    assert _errors(validate_paths([_write(tmp_path, text)], CATALOG)) == expected


@needs_catalog
def test_good_manifests_pass() -> None:
    report = validate_paths([GOOD], CATALOG)
    assert report.errors == ()
    assert report.summary() == "7 resources, 7 valid, 0 invalid, 0 errors"


@needs_catalog
def test_cli_validate_good_set_exits_0() -> None:
    result = CliRunner().invoke(validate, [str(GOOD), "--schema-location", CATALOG, "--repo-root", str(GOOD)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "7 resources, 7 valid, 0 invalid, 0 errors"


def test_cli_validate_reports_errors_as_json_and_exits_1(tmp_path: Path) -> None:
    _write(tmp_path, DEPLOYMENT.replace("image:", "imagee:"))
    result = CliRunner().invoke(validate, [str(tmp_path), "--schema-location", str(OWN_CRDS), "--no-policy", "-o", "json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["summary"] == {"resources": 1, "valid": 0, "invalid": 1, "errors": 1, "waived": 0}
    assert [(f["path"], f["message"], f["kind"], f["name"]) for f in body["findings"]] == [
        ("spec.template.spec.containers[0].imagee", 'unknown field "imagee"', "Deployment", "api")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["does-not-exist", "--schema-location", str(OWN_CRDS)], "error: does-not-exist: no such file or folder"),
        ([str(GOOD), "--schema-location", "no-such-catalog"], "error: no-such-catalog: CRD schema catalog folder not found"),
    ],
    ids=["bad-path", "missing-catalog"],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(validate, args)
    assert result.exit_code == 2
    assert message in result.output


def test_cli_policy_bad_path_exits_2() -> None:
    result = CliRunner().invoke(policy, ["does-not-exist"])
    assert result.exit_code == 2


def _force_fork(monkeypatch: pytest.MonkeyPatch, command: Any) -> None:
    """Fork for any number of files, even though an earlier test left a thread running (jsii's)."""
    import sophia.forking as forking

    monkeypatch.setattr(command, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(forking.threading, "active_count", lambda: 1)


def test_parsing_in_a_forked_process_gives_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large sets are parsed and schema-checked in a child process while the rules load; small ones in-process."""
    import sophia.validate.command as command
    from sophia.validate import check_paths

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist" / "production", tmp_path / "dist")
    (tmp_path / "dist" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n")
    (tmp_path / "dist" / "broken.yaml").write_text("a: [\n")
    (tmp_path / "dist" / "secret.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    started: list[object] = []
    real = command._start_child

    def counting(*args: object) -> object:
        child = real(*args)  # type: ignore[arg-type]
        started.append(child)
        return child

    monkeypatch.setattr(command, "_start_child", counting)
    _force_fork(monkeypatch, command)
    forked = check_paths([str(tmp_path / "dist")], parallel=True)
    inline = check_paths([str(tmp_path / "dist")])
    assert len(started) == 1 and started[0] is not None
    assert forked.findings == inline.findings and forked.resources == inline.resources
    assert {(f.rule, f.file.rsplit("/", 1)[-1]) for f in forked.errors} >= {
        ("SCHEMA", "bad.yaml"), ("YAML", "broken.yaml"), ("SOPHIA-SEC-001", "secret.yaml")
    }


@pytest.mark.parametrize(
    ("module", "function"),
    [("sophia.validate.documents", "read_files"), ("sophia.validate.command", "validate_loaded")],
    ids=["while-parsing", "while-schema-checking"],
)
@pytest.mark.parametrize("how", ["crash", "exception"])
def test_a_failed_child_process_leaves_its_part_to_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], module: str, function: str, how: str
) -> None:
    """A child that dies (a crash in a C library) or raises says nothing; this process does its part."""
    import importlib

    import sophia.validate.command as command
    from sophia.validate import check_paths

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist" / "production" / "web", tmp_path / "dist")
    (tmp_path / "dist" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n")
    expected = check_paths([str(tmp_path / "dist")])
    target = importlib.import_module(module)
    real = getattr(target, function)
    parent = os.getpid()

    def failing(*args: object) -> object:
        if os.getpid() != parent:
            if how == "crash":
                os._exit(3)
            raise RuntimeError("boom")
        return real(*args)

    monkeypatch.setattr(target, function, failing)  # the child looks the function up there, by name
    _force_fork(monkeypatch, command)
    started: list[object] = []
    real_start = command._start_child
    monkeypatch.setattr(command, "_start_child", lambda *args: started.append(real_start(*args)) or started[-1])
    capfd.readouterr()
    report = check_paths([str(tmp_path / "dist")], parallel=True)
    assert len(started) == 1 and started[0] is not None, "no child was started: the test would prove nothing"
    assert report.findings == expected.findings and report.resources == expected.resources
    assert any(f.rule == "SCHEMA" for f in report.errors) and len(report.resources) > 1
    assert capfd.readouterr().err == ""


@needs_catalog
def test_the_command_line_prints_the_whole_report_before_it_ends(tmp_path: Path, sophia_cli: Any) -> None:
    """`sophia` ends without interpreter teardown after validate: nothing of the report may be lost."""
    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist", tmp_path / "dist")
    (tmp_path / "dist" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n")
    files = len(list((tmp_path / "dist").rglob("*.yaml")))

    run = sophia_cli("validate", "dist", "-o", "json", "--repo-root", ".", "--schema-location", CATALOG, cwd=tmp_path)

    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    found = [f for f in report["findings"] if not known_defect(f)]
    assert report["summary"]["resources"] == files and [(f["file"], f["rule"]) for f in found] == [("dist/bad.yaml", "SCHEMA")]
    assert run.stderr == ""
    missing = sophia_cli("validate", "nowhere", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, "error: nowhere: no such file or folder\n")


def test_a_threaded_caller_is_not_forked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked copy of a threaded process can hang on a lock another thread held: parse here."""
    import threading

    import sophia.validate.command as command
    from sophia.validate import check_paths

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist" / "production" / "web", tmp_path / "dist")
    expected = check_paths([str(tmp_path / "dist")])
    started: list[object] = []
    monkeypatch.setattr(command, "_start_child", lambda *args: started.append(args))
    monkeypatch.setattr(command, "PARALLEL_MIN_FILES", 1)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        report = check_paths([str(tmp_path / "dist")], parallel=True)
    finally:
        release.set()
        other.join()
    assert started == []
    assert report.findings == expected.findings and report.resources == expected.resources


def test_a_library_caller_is_never_forked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the command line, which knows its own process, asks for the forked parse."""
    import sophia.validate.command as command
    from sophia.validate import check_paths

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist" / "production" / "web", tmp_path / "dist")
    started: list[object] = []
    monkeypatch.setattr(command, "_start_child", lambda *args: started.append(args))
    _force_fork(monkeypatch, command)
    check_paths([str(tmp_path / "dist")])
    assert started == []
