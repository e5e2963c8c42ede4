"""Typed shapes catch a misspelled field before any test runs.

Each case copies one construct module into a temporary folder twice: unmodified, and with one field
misspelled (or left out). mypy, run once on all copies with the project's own settings (strict, as
`make lint` runs it), must pass the unmodified copies and fail each changed one with an error naming
the field. The constructs build `sophia.k8s` TypedDicts, imported under TYPE_CHECKING only; the last
test holds that promise: building the platform never imports them.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest
from conftest import REPO

CONSTRUCTS = REPO / "sophia" / "constructs"

# (case id, module, text in it, what it becomes, the errors mypy must give for the changed copy)
CASES: list[tuple[str, str, str, str, list[str]]] = [
    ("container-literal", "_pod.py", '"image": p.image,\n        "imagePullPolicy"', '"image": p.image,\n        "imagePulPolicy"',
     ['Extra key "imagePulPolicy" for TypedDict "Container"']),
    ("container-item", "_pod.py", 'container["envFrom"] =', 'container["envFrm"] =',
     ['TypedDict "Container" has no key "envFrm"']),
    ("pod-spec", "_pod.py", '"automountServiceAccountToken": False,\n        "enableServiceLinks"',
     '"automountServiceAcountToken": False,\n        "enableServiceLinks"',
     ['Extra key "automountServiceAcountToken" for TypedDict "PodSpec"']),
    ("network-policy", "network_access.py", '{"podSelector": {"matchLabels": p.selector}',
     '{"podSelektor": {"matchLabels": p.selector}',
     ['Missing key "podSelector" for TypedDict "NetworkPolicySpec"', 'Extra key "podSelektor" for TypedDict "NetworkPolicySpec"']),
    ("external-secret", "service_secrets.py", '"secretStoreRef":', '"secretStoreRefs":',
     ['Extra key "secretStoreRefs" for TypedDict "ExternalSecretSpec"']),
    ("argo-application", "argocd_application.py", '"selfHeal": True', '"selfheal": True',
     ['Extra key "selfheal" for TypedDict "ApplicationSpecSyncPolicyAutomated"']),
    ("daemon-set", "node_agent.py", '"updateStrategy":', '"updateStrategey":',
     ['Extra key "updateStrategey" for TypedDict "DaemonSetSpec"']),
    ("job-item", "one_off_job.py", 'spec["ttlSecondsAfterFinished"]', 'spec["ttlSecondAfterFinished"]',
     ['TypedDict "JobSpec" has no key "ttlSecondAfterFinished"']),
    ("topology-spread", "_pod.py", '"whenUnsatisfiable":', '"whenUnsatisfyable":',
     ['Missing key "whenUnsatisfiable" for TypedDict "TopologySpreadConstraint"',
      'Extra key "whenUnsatisfyable" for TypedDict "TopologySpreadConstraint"']),
    ("kind-left-out", "namespace.py", '            "kind": "Namespace",\n', "",
     ['Missing key "kind" for TypedDict "Namespace"']),
    ("wrong-kind", "exposure.py", '"kind": "Ingress"', '"kind": "Ingres"',
     ['Incompatible types (expression has type "Literal[\'Ingres\']", TypedDict item "kind" has type "Literal[\'Ingress\']")']),
]

_LINE = re.compile(r"^(?P<file>[^:\s]+\.py):\d+: error: (?P<message>.*?)  \[[a-z-]+\]$")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's errors by copied file, from one run over every copy."""
    folder = tmp_path_factory.mktemp("typed")
    for case, module, text, changed, _ in CASES:
        source = (CONSTRUCTS / module).read_text()
        assert source.count(text) == 1, f"{case}: {text!r} must occur exactly once in {module}"
        (folder / f"pristine_{case.replace('-', '_')}.py").write_text(source)
        (folder / f"changed_{case.replace('-', '_')}.py").write_text(source.replace(text, changed))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(folder / "cache"),
         "--no-error-summary", *sorted(p.name for p in folder.glob("*.py"))],
        cwd=folder, env={**os.environ, "MYPYPATH": str(REPO)}, capture_output=True, text=True, timeout=300,
    )
    errors: dict[str, list[str]] = {p.name: [] for p in folder.glob("*.py")}
    for line in proc.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            errors[match["file"]].append(match["message"])
    assert proc.returncode in (0, 1) and not proc.stderr, proc.stdout + proc.stderr
    return errors


@pytest.mark.slow
@pytest.mark.parametrize(("case", "errors"), [(c[0], c[4]) for c in CASES], ids=[c[0] for c in CASES])
def test_a_misspelled_field_fails_mypy_and_the_original_passes(
    mypy_errors: dict[str, list[str]], case: str, errors: list[str]
) -> None:
    name = case.replace("-", "_")
    assert mypy_errors[f"pristine_{name}.py"] == []
    assert mypy_errors[f"changed_{name}.py"] == errors


@pytest.mark.slow
def test_building_the_platform_imports_no_typed_shapes() -> None:
    """The TypedDicts cost nothing at run time: compiling the real platform never imports sophia.k8s."""
    script = (
        "import sys\n"
        "from sophia.pipeline import compile_tree\n"
        "compile_tree(sys.argv[1])\n"
        "print(sorted(m for m in sys.modules if m == 'sophia.k8s' or m.startswith('sophia.k8s.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(REPO / "environments")], capture_output=True, text=True,
                          timeout=300, check=True)
    assert proc.stdout.strip() == "[]"


_UNTYPED = re.compile(r"^(dict|Mapping|Manifest|Any|object)\b")


def _untyped_objects(source: str) -> list[str]:
    """Kubernetes object literals (dicts with an `apiVersion` and `metadata`) that no TypedDict annotation reaches."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Dict) and {"apiVersion", "metadata"} <= {k.value for k in node.keys if isinstance(k, ast.Constant)}):
            continue
        parent = parents[node]
        annotation: ast.expr | None = None
        if isinstance(parent, ast.AnnAssign):
            annotation = parent.annotation
        elif isinstance(parent, ast.Return):
            function = parent
            while not isinstance(function, ast.FunctionDef):
                function = parents[function]
            annotation = function.returns
        if annotation is None or _UNTYPED.match(ast.unparse(annotation).strip("'\"")):
            found.append(f"line {node.lineno}")
    return found


def test_every_object_a_construct_builds_is_typed() -> None:
    """`_emit` takes any mapping, so mypy checks an object's fields only where the object meets its TypedDict:
    every object literal is the value of an annotated variable, or what a function annotated with one returns."""
    untyped = {p.name: lines for p in sorted(CONSTRUCTS.glob("*.py")) if (lines := _untyped_objects(p.read_text()))}
    assert untyped == {}


def test_the_literal_check_finds_an_object_passed_straight_to_emit() -> None:
    obj = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}'
    assert _untyped_objects(f"self._emit(folder, {obj})\n") == ["line 1"]
    assert _untyped_objects(f"m: dict[str, Any] = {obj}\n") == ["line 1"]
    assert _untyped_objects(f"def f() -> ConfigMap:\n    return {obj}\n") == []
    assert _untyped_objects(f"cm: ConfigMap = {obj}\n") == []
