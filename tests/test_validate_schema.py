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

from sophia.validate import CatalogError, CrdCatalog, Release, UsageError, crd_catalog, validate_paths
from sophia.validate.command import pins_of, policy, validate

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
GOOD = FIXTURES / "good"
OWN_CRDS = FIXTURES / "crds"
WIDGETS_V1 = Release(addon="widgets", project="widgets", release="v1.0.0", groups=("example.com",))
WIDGETS_V2 = Release(addon="widgets", project="widgets", release="v2.0.0", groups=("example.com",))
OWN = CrdCatalog(OWN_CRDS, (WIDGETS_V1,))
REPO = Path(__file__).resolve().parents[1]
CRDS = os.environ.get("SOPHIA_CRDS", "")
needs_crds = pytest.mark.skipif(
    not CRDS, reason="SOPHIA_CRDS is unset: the add-ons' real CRDs (<project>/<release>/*.yaml) are needed here"
)


def pinned() -> CrdCatalog:
    """The real CRDs of the releases environments/ pins."""
    return crd_catalog(Path(CRDS), pins_of(REPO / "environments"))

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
        [("", "no add-on of the cluster installs the API group 'example.org' (pinned: widgets v1.0.0)")],
    ),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\ndata: {b: '2'}\n", [("", "duplicate key 'data'")]),
    ("kind: ConfigMap\nmetadata: {name: c}\n", [("apiVersion", "missing apiVersion")]),
    # kubectl and Argo CD read YAML 1.1: a plain `y` is a boolean, which a ConfigMap cannot hold ('n' quoted is a string)
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: y, B: 'n'}\n", [("data.A", "expected string, got boolean True")]),
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
         "yaml-1.1-boolean", "metadata-typo", "every-error-reported"],
)
def test_broken_builtin_manifests_are_caught(tmp_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    report = validate_paths([_write(tmp_path, text)], OWN)
    assert _errors(report) == expected
    assert not report.ok


def test_errors_carry_file_document_kind_name_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n" + DEPLOYMENT.replace("image:", "imagee:"))
    [finding] = validate_paths([path], OWN).errors
    assert (finding.file, finding.document, finding.kind, finding.name, finding.line) == (str(path), 2, "Deployment", "api", 15)


OF = " (Widget example.com/v1 of widgets v1.0.0)"
OWN_CRD_CASES = [
    ("spec: {size: 3}", []),
    ("spec: {size: 3, colour: 3}", [("spec.colour", "expected string, got integer 3" + OF)]),
    ("spec: {size: 3, flavour: red}", [("spec.flavour", 'unknown field "flavour"' + OF)]),
    ("spec: {size: 3, labels: {tier: web, anything: goes}}", []),
    ("spec: {}", [("spec", 'missing required field "size"' + OF)]),
    ("spec: {size: 3}\nmetadata: {name: w, lables: {}}", [("metadata.lables", 'unknown field "lables"' + OF)]),
    ("spec: {size: 0}", [("spec.size", "0 is less than the minimum of 1" + OF)]),
    ("spec: {size: 3, mode: Sliding}", [("spec.mode", "'Sliding' is not one of 'Fixed', 'Elastic'" + OF)]),
    ("spec: {size: 3, port: http}", []),
    ("spec: {size: 3, port: 8080}", []),
    ("spec: {size: 3, port: true}", [("spec.port", 'true is not valid under any of the schemas listed in the \'anyOf\' keyword' + OF)]),
    ("spec: {size: 3, colour: null}", []),
    ("spec: {size: 3, maxSize: null}", []),  # the API server drops a null it cannot hold (no default)
    ("spec: {size: 3, mode: null}", []),  # ... or puts the default in its place
    ("spec: {size: 3, since: '2026-12-03T10:00:00Z', certificate: aGk=}", []),
    ("spec: {size: 3, since: yesterday}", [("spec.since", '"yesterday" is not a "k8s-date-time"' + OF)]),
    ("spec: {size: 3, certificate: 'not base64!'}", [("spec.certificate", '"not base64!" is not a "k8s-byte"' + OF)]),
    ("spec: {size: 3, ports: [{name: a, number: 1}, {name: a, number: 2}]}", [("spec.ports[1]", 'Duplicate value: {"name":\'a\'}' + OF)]),
    ("spec: {size: 3, tags: [x, z, x]}", [("spec.tags[2]", "Duplicate value: 'x'" + OF)]),
    ("spec: {size: 3, template: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}}", []),
    ("spec: {size: 3, template: {metadata: {name: c}}}",
     [("spec.template", 'missing required field "apiVersion"' + OF), ("spec.template", 'missing required field "kind"' + OF)]),
    ("spec: {size: 5, maxSize: 4}", [("spec", "size must not exceed maxSize (rule: !has(self.maxSize) || self.size <= self.maxSize)" + OF)]),
    ("spec: {size: 3, mode: Fixed}", [("spec.port", "a Fixed widget needs a port (rule: self.mode != 'Fixed' || has(self.port))" + OF)]),
]


@pytest.mark.parametrize(
    ("body", "expected"),
    OWN_CRD_CASES,
    ids=["valid", "nullable-still-typed", "closed-by-strict", "preserve-unknown-fields-stays-open", "required",
         "metadata-is-objectmeta", "minimum", "enum", "int-or-string-string", "int-or-string-int", "int-or-string-bool",
         "nullable", "null-dropped", "null-defaulted", "formats-valid", "date-time", "byte", "list-map-keys", "list-set",
         "embedded-resource", "embedded-resource-needs-kind", "cel-rule", "cel-field-path-and-default"],
)
def test_own_crd_schema_is_applied_as_the_api_server_applies_it(tmp_path: Path, body: str, expected: list[tuple[str, str]]) -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\n"
    text += body if "metadata" in body else "metadata: {name: w}\n" + body
    assert _errors(validate_paths([_write(tmp_path, text + "\n")], OWN)) == expected


def test_a_default_is_applied_before_the_rules(tmp_path: Path) -> None:
    """mode defaults to Elastic, so the Fixed-needs-a-port rule holds without a port."""
    report = validate_paths([_write(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n")], OWN)
    assert report.ok and report.evaluated_rules == 2


def test_a_rule_with_a_function_the_library_lacks_is_listed_not_passed(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3, name: Big}\n")
    report = validate_paths([path], OWN)
    assert [(u.kind, u.rule, u.reason, u.objects) for u in report.unevaluated] == [(
        "Widget example.com/v1", "!has(self.name) || self.name.lowerAscii() == self.name",
        "uses Kubernetes CEL functions the library lacks: lowerAscii()", 1,
    )]
    assert report.summary() == "1 resources, 1 valid, 0 invalid, 0 errors; CEL rules: 2 evaluated, 1 not evaluated"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {name: w}\n",
         [("", "widgets v1.0.0 does not serve Widget example.com/v1alpha1 (served: v1)")]),
        ("apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\n",
         [("", "widgets v1.0.0 does not define Widget example.com/v2 (served: v1)")]),
        ("apiVersion: example.com/v1\nkind: Sprocket\nmetadata: {name: s}\n",
         [("", "widgets v1.0.0 defines no kind Sprocket in API group example.com")]),
        ("apiVersion: example.com/v1\nkind: GadgetPool\nmetadata: {name: g, namespace: core}\nspec: {size: 1}\n",
         [("metadata.namespace", "GadgetPool is cluster-scoped: it takes no namespace (GadgetPool example.com/v1 of widgets v1.0.0)")]),
    ],
    ids=["unserved-version", "unknown-version", "unknown-kind", "cluster-scoped"],
)
def test_only_what_the_release_serves_is_accepted(tmp_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    assert _errors(validate_paths([_write(tmp_path, text)], OWN)) == expected


def test_a_field_of_a_later_release_is_refused_naming_the_release(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3, shape: round}\n")
    assert _errors(validate_paths([path], OWN)) == [("spec.shape", 'unknown field "shape" (Widget example.com/v1 of widgets v1.0.0)')]
    assert validate_paths([path], CrdCatalog(OWN_CRDS, (WIDGETS_V2,))).ok


def test_a_pinned_release_without_crds_is_an_error_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n")
    missing = Release(addon="widgets", project="widgets", release="v9.9.9", groups=("example.com",))
    assert _errors(validate_paths([path], CrdCatalog(OWN_CRDS, (missing,)))) == [(
        "", f"Widget (example.com) is defined by widgets v9.9.9, whose CRDs are not in {OWN_CRDS} (no folder widgets/v9.9.9)"
    )]
    assert _errors(validate_paths([path], CrdCatalog(None, (missing,)))) == [
        ("", "Widget (example.com) is defined by widgets v9.9.9, and no CRD folder is given")
    ]


FILE_PROBLEMS = [
    (b"\x00\x01\x02", "binary content (a NUL byte) in a YAML file"),
    (b"\xff\xfe\x00", "not UTF-8 text (byte 0: 0xff)"),
    (b"a: [1, 2\n", "YAML syntax error: "),  # the rest is libyaml's wording
]


@pytest.mark.parametrize(("data", "message"), FILE_PROBLEMS, ids=["binary", "not-utf8", "bad-yaml"])
def test_unreadable_files_are_reported_not_raised(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(data)
    report = validate_paths([path], OWN)
    assert [(f.document, f.rule, f.message[: len(message)]) for f in report.errors] == [(0, "YAML", message)]
    assert report.summary() == "1 resources, 0 valid, 1 invalid, 1 errors"


def test_bad_path_and_missing_crd_folder_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        validate_paths([tmp_path / "nope"], OWN)
    with pytest.raises(CatalogError, match="CRD folder not found"):
        crd_catalog(tmp_path / "no-crds", pins_of(REPO / "environments"))


@needs_crds
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  project: p\n"
            "  destination: {namespace: x}\n  source: {repoURL: r, path: p}\n  syncPolicy: {automated: {selfheal: true}}\n",
            [("spec.syncPolicy.automated.selfheal", 'unknown field "selfheal" (Application argoproj.io/v1alpha1 of argo-cd v3.5.1)')],
        ),
        (
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: e}\nspec:\n"
            "  secretStoreRef: {name: vault, kind: ClusterSecretStore}\n  refreshIntervall: 1h\n",
            [("spec.refreshIntervall", 'unknown field "refreshIntervall" (ExternalSecret external-secrets.io/v1 of external-secrets v2.9.0)')],
        ),
    ],
    ids=["argocd-selfheal", "externalsecret-typo"],
)
def test_broken_custom_resources_are_caught(tmp_path: Path, text: str, expected: list[tuple[str, str]]) -> None:
    assert _errors(validate_paths([_write(tmp_path, text)], pinned())) == expected


@needs_crds
def test_good_manifests_pass() -> None:
    report = validate_paths([GOOD], pinned())
    assert report.errors == ()
    assert report.summary() == "7 resources, 7 valid, 0 invalid, 0 errors"


@needs_crds
def test_cli_validate_good_set_exits_0() -> None:
    result = CliRunner().invoke(validate, [str(GOOD), "--crds", CRDS, "--environments", str(REPO / "environments"),
                                           "--repo-root", str(GOOD)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "7 resources, 7 valid, 0 invalid, 0 errors"


def test_cli_validate_reports_errors_as_json_and_exits_1(tmp_path: Path) -> None:
    _write(tmp_path, DEPLOYMENT.replace("image:", "imagee:"))
    result = CliRunner().invoke(validate, [str(tmp_path), "--crds", str(OWN_CRDS), "--no-policy", "-o", "json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["summary"] == {"resources": 1, "valid": 0, "invalid": 1, "errors": 1, "waived": 0, "cel_rules_evaluated": 0}
    assert [(f["path"], f["message"], f["kind"], f["name"]) for f in body["findings"]] == [
        ("spec.template.spec.containers[0].imagee", 'unknown field "imagee"', "Deployment", "api")
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["does-not-exist", "--crds", str(OWN_CRDS)], "error: does-not-exist: no such file or folder"),
        ([str(GOOD), "--crds", "no-such-folder"], "error: no-such-folder: CRD folder not found"),
        ([str(GOOD), "--environments", "no-such-folder"], "error: no-such-folder: no environments folder"),
    ],
    ids=["bad-path", "missing-crds", "missing-environments"],
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


@needs_crds
def test_the_command_line_prints_the_whole_report_before_it_ends(tmp_path: Path, sophia_cli: Any) -> None:
    """`sophia` ends without interpreter teardown after validate: nothing of the report may be lost."""
    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "dist", tmp_path / "dist")
    (tmp_path / "dist" / "bad.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: 1}\n")
    files = len(list((tmp_path / "dist").rglob("*.yaml")))

    run = sophia_cli("validate", "dist", "-o", "json", "--repo-root", ".", "--crds", CRDS,
                     "--environments", str(REPO / "environments"), cwd=tmp_path)

    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"]["resources"] == files
    assert [(f["file"], f["rule"]) for f in report["findings"] if not f.get("waived")] == [("dist/bad.yaml", "SCHEMA")]
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


PULUMI_STORE = """\
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: pulumi-esc}
spec:
  provider:
    pulumi:
      organization: sophia-ai
      project: default
      environment: production
%s
"""
AUTH = "      auth: {accessToken: {secretRef: {namespace: external-secrets, name: pulumi-esc-token, key: access-token}}}"
ACCESS_TOKEN = "      accessToken: {secretRef: {namespace: external-secrets, name: pulumi-esc-token, key: access-token}}"
ESO = {release: Release(addon="external-secrets", project="external-secrets", release=release,
                        groups=("external-secrets.io", "generators.external-secrets.io")) for release in ("v0.18.2", "v2.9.0")}


@needs_crds
@pytest.mark.parametrize(
    ("release", "credentials", "expected"),
    [
        ("v0.18.2", ACCESS_TOKEN, []),
        ("v0.18.2", AUTH, [
            ("spec.provider.pulumi", 'missing required field "accessToken" (ClusterSecretStore external-secrets.io/v1 of external-secrets v0.18.2)'),
            ("spec.provider.pulumi.auth", 'unknown field "auth" (ClusterSecretStore external-secrets.io/v1 of external-secrets v0.18.2)'),
        ]),
        ("v2.9.0", AUTH, []),
        ("v2.9.0", ACCESS_TOKEN, []),
        ("v2.9.0", AUTH + "\n" + ACCESS_TOKEN, [(
            "spec.provider.pulumi",
            "Exactly one of 'auth' or deprecated 'accessToken' must be specified (rule: (has(self.auth) && !has(self.accessToken)) "
            "|| (!has(self.auth) && has(self.accessToken))) (ClusterSecretStore external-secrets.io/v1 of external-secrets v2.9.0)",
        )]),
    ],
    ids=["0.18-accessToken", "0.18-refuses-auth", "2.9-auth", "2.9-deprecated-accessToken", "2.9-cel-not-both"],
)
def test_the_pulumi_store_of_each_external_secrets_release(tmp_path: Path, release: str, credentials: str,
                                                           expected: list[tuple[str, str]]) -> None:
    """The store's credentials as each real release defines them (auth exists from v2.5.0)."""
    path = _write(tmp_path, PULUMI_STORE % credentials)
    assert _errors(validate_paths([path], CrdCatalog(Path(CRDS), (ESO[release],)))) == expected


@needs_crds
def test_the_committed_dist_is_accepted_with_the_pinned_crds() -> None:
    report = validate_paths([REPO / "dist"], pinned())
    assert report.errors == ()
    assert report.unevaluated == () and report.evaluated_rules > 0


@pytest.mark.parametrize(
    ("pattern", "translated", "matches", "refuses"),
    [
        ("^(?i)(abort|warn)?$", "^(?i:(abort|warn)?$)", ["WARN", "abort", ""], ["x", "warns"]),
        ("^a(?i)b$", "^a(?i:b$)", ["aB"], ["AB"]),
        ("^[(](?s)x.$", "^[(](?s:x.$)", ["(x\n"], ["x"]),
        ("^(x(?i)y)z$", "^(x(?i:y))z$", ["xYz"], ["xYZ"]),
        ("^plain$", "^plain$", ["plain"], ["PLAIN"]),
    ],
    ids=["prometheus-operator", "mid-pattern", "char-class-paren", "inside-a-group", "no-flag"],
)
def test_go_inline_flags_are_read_as_the_api_server_reads_them(pattern: str, translated: str, matches: list[str],
                                                                  refuses: list[str]) -> None:
    """CRD patterns are Go (RE2) syntax: a flag group applies to the rest of its group (the strings a
    Go regexp matches and refuses are written beside each pattern)."""
    import jsonschema_rs

    from sophia.validate.crd_schema import go_pattern

    assert go_pattern(pattern) == translated
    validator = jsonschema_rs.Draft4Validator({"type": "string", "pattern": go_pattern(pattern)})
    assert [validator.is_valid(s) for s in matches] == [True] * len(matches)
    assert [validator.is_valid(s) for s in refuses] == [False] * len(refuses)
