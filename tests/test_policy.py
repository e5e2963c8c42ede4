"""Policy rules: for every rule a manifest that passes and one that fails, with the exact message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sophia.validate import all_rules, run_policy
from sophia.validate.command import policy

GOOD = Path(__file__).parent / "fixtures" / "validate" / "good"

POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: core
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: api
          image: ghcr.io/sophia/api:1.2.3
          env: [{name: LOG_LEVEL, value: info}]
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
          livenessProbe: {httpGet: {path: /healthz, port: 8000}}
          readinessProbe: {httpGet: {path: /ready, port: 8000}}
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: core}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""
C = "spec.template.spec.containers[0]"


def _edit(old: str, new: str) -> str:
    assert old in POD, old
    return POD.replace(old, new)


def _env(name: str, value: str) -> str:
    return _edit("[{name: LOG_LEVEL, value: info}]", f"[{{name: {name}, value: '{value}'}}]")


def _check(tmp_path: Path, text: str, rule: str, repo_root: Path | None = None) -> list[tuple[str, str]]:
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text))
    report = run_policy([tmp_path / "m.yaml"], repo_root=repo_root or tmp_path)
    return [(f.field, f.message) for f in report.errors if f.rule == rule]


SERVICE = "---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: core}\nspec: {selector: {app: %s}}\n"
PROJECT = (
    "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: p, namespace: argocd}\n"
    "spec:\n  sourceRepos: [%s]\n  destinations: [{server: https://kubernetes.default.svc, namespace: core}]\n"
)
APP = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a, namespace: argocd}\n"
    "spec:\n  project: p\n  destination: {namespace: core}\n  source: {repoURL: r, path: %s}\n"
)

RULE_CASES = [
    ("SOPHIA-PSS-001", _edit("runAsNonRoot: true, ", ""),
     [(f"{C}.securityContext.runAsNonRoot",
       'runAsNonRoot != true (pod or container "api" must set securityContext.runAsNonRoot=true)')]),
    ("SOPHIA-PSS-002", _edit("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
     [(f"{C}.securityContext.allowPrivilegeEscalation",
       'allowPrivilegeEscalation != false (container "api" must set securityContext.allowPrivilegeEscalation=false)')]),
    ("SOPHIA-PSS-003", _edit("drop: [ALL]", "drop: [ALL], add: [SYS_ADMIN, NET_BIND_SERVICE]"),
     [(f"{C}.securityContext.capabilities.add",
       'unrestricted capabilities (container "api" must not include "SYS_ADMIN" in securityContext.capabilities.add)')]),
    ("SOPHIA-PSS-004", _edit("type: RuntimeDefault", "type: Unconfined"),
     [("spec.template.spec.securityContext.seccompProfile.type",
       'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'),
      (f"{C}.securityContext.seccompProfile", 'seccompProfile (pod or container "api" must set '
       'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')]),
    ("SOPHIA-PSS-005", _edit("      securityContext: {runAsNonRoot", "      hostNetwork: true\n      securityContext: {runAsNonRoot"),
     [("spec.template.spec.hostNetwork", "host namespaces (hostNetwork=true)")]),
    ("SOPHIA-PSS-006", _edit("      containers:", "      volumes: [{name: host, hostPath: {path: /var}}]\n      containers:"),
     [("spec.template.spec.volumes[0].hostPath",
       'restricted volume types (volume "host" uses restricted volume type "hostPath")')]),
    ("SOPHIA-PSS-007", _edit("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: false, privileged: true"),
     [(f"{C}.securityContext.privileged", 'privileged (container "api" must not set securityContext.privileged=true)')]),
    ("SOPHIA-PSS-008", _edit("          env:", "          ports: [{containerPort: 80, hostPort: 80}]\n          env:"),
     [(f"{C}.ports[0].hostPort", 'hostPort (container "api" uses hostPort 80)')]),
    ("SOPHIA-PSS-009", _edit("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: false, procMount: Unmasked"),
     [(f"{C}.securityContext.procMount",
       'procMount (container "api" must not set securityContext.procMount to "Unmasked")')]),
    ("SOPHIA-RES-001", _edit(", limits: {cpu: 200m, memory: 128Mi}", ""),
     [(f"{C}.resources", 'container "api" has no limits.cpu, limits.memory')]),
    ("SOPHIA-PROBE-001", _edit("          readinessProbe: {httpGet: {path: /ready, port: 8000}}\n", ""),
     [(C, 'container "api" has no readinessProbe')]),
    ("SOPHIA-IMG-001", _edit("api:1.2.3", "api:latest"),
     [(f"{C}.image", 'image "ghcr.io/sophia/api:latest" of container "api" uses the :latest tag')]),
    ("SOPHIA-NET-001", _env("S3_URL", "http://10.1.2.3:9000"), [(f"{C}.env[0].value", "IP address 10.1.2.3 written as a host")]),
    ("SOPHIA-SEC-001", POD + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: core}\n",
     [("kind", "a Secret object is committed to the repository")]),
    ("SOPHIA-SEC-002", _env("GITHUB_TOKEN", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
     [(f"{C}.env[0].value", '"GITHUB_TOKEN" looks like a secret (Base64 High Entropy String, GitHub Token)')]),
    ("SOPHIA-SEC-003", _env("POSTGRES_PASSWORD", "sophia_password"),
     [(f"{C}.env[0].value", '"POSTGRES_PASSWORD" holds the weak default "sophia_password"')]),
    ("SOPHIA-SEC-004", _env("API_TOKEN", "${API_TOKEN}"), [(f"{C}.env[0].value", '"API_TOKEN" holds the placeholder "${API_TOKEN}"')]),
    ("SOPHIA-NET-002", _edit("podSelector: {}", "podSelector: {matchLabels: {app: api}}"),
     [("", 'namespace "core" has no default-deny NetworkPolicy')]),
    ("SOPHIA-SVC-001", POD + SERVICE % "apii", [("spec.selector", "selector app=apii matches no pod template in the checked set")]),
    ("SOPHIA-ARGO-001", APP % "missing", [("spec.source.path", 'path "missing" does not exist in the repository ({root})')]),
    ("SOPHIA-ARGO-002", PROJECT % "'*'", [("spec.sourceRepos[0]", 'sourceRepos allows "*"')]),
]
PASSING = {
    "SOPHIA-SEC-001": POD,
    "SOPHIA-SVC-001": POD + SERVICE % "api",
    "SOPHIA-ARGO-001": APP % "apps",
    "SOPHIA-ARGO-002": PROJECT % "https://github.com/ai-cherry/sophia-deploy.git",
}


def test_every_rule_has_a_case() -> None:
    assert sorted(r.id for r in all_rules() if r.id != "SOPHIA-WAIVE-001") == sorted(c[0] for c in RULE_CASES)


@pytest.mark.parametrize(("rule", "failing", "expected"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_fails_and_passes(tmp_path: Path, rule: str, failing: str, expected: list[tuple[str, str]]) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "Deployment-x.yaml").write_text("kind: x\n")
    root = str(tmp_path.resolve())
    assert _check(tmp_path, failing, rule) == [(p, m.replace("{root}", root)) for p, m in expected]
    assert _check(tmp_path, PASSING.get(rule, POD), rule) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (_edit("containers:", "restartPolicy: Never\n      containers:").replace("kind: Deployment", "kind: Job")
         .replace("  selector: {matchLabels: {app: api}}\n", "")
         .replace("          livenessProbe: {httpGet: {path: /healthz, port: 8000}}\n", ""),
         "SOPHIA-PROBE-001"),
        (_edit("api:1.2.3", "api@sha256:" + "a" * 64), "SOPHIA-IMG-001"),
        (_env("BIND", "0.0.0.0"), "SOPHIA-NET-001"),
        (POD + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: out, namespace: core}\n"
         "spec: {podSelector: {}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]}\n",
         "SOPHIA-NET-001"),
        (_env("DB_PASSWORD_FILE", "/run/secrets/db"), "SOPHIA-SEC-002"),
    ],
    ids=["job-needs-no-probes", "digest-is-pinned", "bind-address-is-not-a-host", "cidr-in-ipblock", "reference-not-secret"],
)
def test_exemptions(tmp_path: Path, text: str, rule: str) -> None:
    assert _check(tmp_path, text, rule) == []


def test_waiver_with_reason_is_shown_and_does_not_fail(tmp_path: Path) -> None:
    text = _edit("  namespace: core\n", "  namespace: core\n  annotations: {sophia.ai/waive.SOPHIA-IMG-001: vendor ships latest only}\n")
    (tmp_path / "m.yaml").write_text(text.replace("api:1.2.3", "api:latest"))
    report = run_policy([tmp_path], repo_root=tmp_path)
    assert report.ok
    [waived] = report.waived
    assert (waived.rule, waived.waived) == ("SOPHIA-IMG-001", "vendor ships latest only")
    assert report.summary() == "2 resources, 2 valid, 0 invalid, 0 errors, 1 waived"


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("sophia.ai/waive.SOPHIA-IMG-001: ''", "waiver of SOPHIA-IMG-001 has no written reason"),
        ("sophia.ai/waive.SOPHIA-NOPE-001: because", "waiver for unknown rule 'SOPHIA-NOPE-001'"),
    ],
    ids=["empty-reason", "unknown-rule"],
)
def test_bad_waivers_are_violations(tmp_path: Path, annotation: str, expected: str) -> None:
    text = _edit("  namespace: core\n", f"  namespace: core\n  annotations: {{{annotation}}}\n")
    assert _check(tmp_path, text, "SOPHIA-WAIVE-001") == [(f"metadata.annotations.{annotation.split(':')[0]}", expected)]


def test_good_fixture_set_passes_policy() -> None:
    report = run_policy([GOOD], repo_root=GOOD)
    assert report.errors == ()


def test_cli_policy_exit_codes_and_json(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(_edit("api:1.2.3", "api"))
    result = CliRunner().invoke(policy, [str(tmp_path), "--output", "json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert [(f["rule"], f["message"]) for f in body["findings"]] == [
        ("SOPHIA-IMG-001", 'image "ghcr.io/sophia/api" of container "api" has no tag')
    ]
    ok = CliRunner().invoke(policy, [str(GOOD), "--repo-root", str(GOOD)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "7 resources, 7 valid, 0 invalid, 0 errors"
