"""PodSecurity admission as `sophia validate` gives it: every check of the Pod Security Standards (one
definition, shared with the policy's SOPHIA-PSS rules), the level and version a namespace's labels set,
the API server's refusal of invalid labels, and findings no waiver changes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from sophia.validate import check_paths, validate_paths
from sophia.validate.documents import Resource
from sophia.validate.pod_security import CHECKS, checks_of, violations
from sophia.validate.pod_templates import pod_template
from sophia.validate.rules_pods import RULES

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: core
  labels: {LABELS}
"""
RESTRICTED = "{pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/warn: restricted}"
POD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: core}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: api
          image: ghcr.io/sophia/api:1.2.3
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""
S = "spec.template.spec"
C = f"{S}.containers[0]"


def _edit(old: str, new: str, text: str = POD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _pod(text: str) -> Resource:
    return Resource("m.yaml", 1, yaml.safe_load(text))


def _found(text: str, level: str, version: int = 33) -> list[tuple[str, str, str]]:
    template = pod_template(_pod(text))
    assert template is not None
    from sophia.values import dotted
    return [(check.id, dotted(v.path), check.words(v)) for check, v in violations(template, level, version)]


CONTAINER_SC = "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}"
POD_SC = "securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}"

CASES = [
    ("hostNamespaces", _edit("      containers:", "      hostPID: true\n      containers:"),
     [(f"{S}.hostPID", "host namespaces (hostPID=true)")]),
    ("privileged", _edit("drop: [ALL]}", "drop: [ALL]}, privileged: true"),
     [(f"{C}.securityContext.privileged", 'privileged (container "api" must not set securityContext.privileged=true)')]),
    ("capabilities_baseline", _edit("drop: [ALL]}", "drop: [ALL], add: [CHOWN, NET_ADMIN]}"),
     [(f"{C}.securityContext.capabilities.add",
       'non-default capabilities (container "api" must not include "NET_ADMIN" in securityContext.capabilities.add)')]),
    ("hostPathVolumes", _edit("      containers:", "      volumes: [{name: logs, hostPath: {path: /var/log}}]\n      containers:"),
     [(f"{S}.volumes[0].hostPath", 'hostPath volumes (volume "logs")')]),
    ("hostPorts", _edit("          image:", "          ports: [{containerPort: 80, hostPort: 8080}]\n          image:"),
     [(f"{C}.ports[0].hostPort", 'hostPort (container "api" uses hostPort 8080)')]),
    ("appArmorProfile", _edit("    metadata: {labels: {app: api}}",
                              "    metadata:\n      labels: {app: api}\n"
                              "      annotations: {container.apparmor.security.beta.kubernetes.io/api: unconfined}",
                              _edit("drop: [ALL]}", "drop: [ALL]}, appArmorProfile: {type: Unconfined}")),
     [(f"{C}.securityContext.appArmorProfile.type",
       'forbidden AppArmor profile (container "api" must not set AppArmor profile type to "Unconfined")'),
      ("spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/api",
       'forbidden AppArmor profile (annotation must not set AppArmor profile type to '
       '"container.apparmor.security.beta.kubernetes.io/api=\\"unconfined\\"")')]),
    ("seLinuxOptions", _edit("runAsNonRoot: true,", "runAsNonRoot: true, seLinuxOptions: {type: spc_t, user: root},"),
     [(f"{S}.securityContext.seLinuxOptions.type", 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")'),
      (f"{S}.securityContext.seLinuxOptions.user", "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user may not be set)")]),
    ("procMount", _edit("drop: [ALL]}", "drop: [ALL]}, procMount: Unmasked"),
     [(f"{C}.securityContext.procMount", 'procMount (container "api" must not set securityContext.procMount to "Unmasked")')]),
    ("seccompProfile_baseline", _edit("type: RuntimeDefault", "type: Unconfined"),
     [(f"{S}.securityContext.seccompProfile.type", 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")')]),
    ("sysctls", _edit("runAsNonRoot: true,", "runAsNonRoot: true, sysctls: [{name: net.ipv4.tcp_rmem, value: '4096'}, "
                      "{name: kernel.msgmax, value: '65536'}],"),
     [(f"{S}.securityContext.sysctls[1].name", "forbidden sysctls (kernel.msgmax)")]),
    ("windowsHostProcess", _edit("drop: [ALL]}", "drop: [ALL]}, windowsOptions: {hostProcess: true}"),
     [(f"{C}.securityContext.windowsOptions.hostProcess",
       'hostProcess (container "api" must not set securityContext.windowsOptions.hostProcess=true)')]),
    ("restrictedVolumes", _edit("      containers:", "      volumes: [{name: data, nfs: {server: nas, path: /x}}, {name: t, emptyDir: {}}]\n      containers:"),
     [(f"{S}.volumes[0].nfs", 'restricted volume types (volume "data" uses restricted volume type "nfs")')]),
    ("allowPrivilegeEscalation", _edit("allowPrivilegeEscalation: false, ", ""),
     [(f"{C}.securityContext.allowPrivilegeEscalation",
       'allowPrivilegeEscalation != false (container "api" must set securityContext.allowPrivilegeEscalation=false)')]),
    ("runAsNonRoot", _edit("runAsNonRoot: true", "runAsNonRoot: false"),
     [(f"{S}.securityContext.runAsNonRoot", "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"),
      (f"{C}.securityContext.runAsNonRoot",
       'runAsNonRoot != true (pod or container "api" must set securityContext.runAsNonRoot=true)')]),
    ("runAsUser", _edit("drop: [ALL]}", "drop: [ALL]}, runAsUser: 0"),
     [(f"{C}.securityContext.runAsUser", 'runAsUser=0 (container "api" must not set runAsUser=0)')]),
    ("seccompProfile_restricted", _edit(", seccompProfile: {type: RuntimeDefault}", ""),
     [(f"{C}.securityContext.seccompProfile", 'seccompProfile (pod or container "api" must set '
       'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')]),
    ("capabilities_restricted", _edit("drop: [ALL]", "add: [CHOWN]"),
     [(f"{C}.securityContext.capabilities.drop",
       'unrestricted capabilities (container "api" must set securityContext.capabilities.drop=["ALL"])'),
      (f"{C}.securityContext.capabilities.add",
       'unrestricted capabilities (container "api" must not include "CHOWN" in securityContext.capabilities.add)')]),
]


def test_every_check_has_a_case() -> None:
    assert sorted(c.id for c in CHECKS) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize(("check", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_check_finds_what_the_api_server_finds(check: str, text: str, expected: list[tuple[str, str]]) -> None:
    level = next(c.level for c in CHECKS if c.id == check)
    found = [(p, m) for i, p, m in _found(text, level) if i == check]
    assert found == expected
    assert _found(POD, "restricted") == [], "the base pod meets restricted"


def test_restricted_replaces_three_baseline_checks() -> None:
    restricted = {c.id for c in checks_of("restricted")}
    assert {"hostPathVolumes", "seccompProfile_baseline", "capabilities_baseline"}.isdisjoint(restricted)
    assert {c.id for c in CHECKS} - restricted == {"hostPathVolumes", "seccompProfile_baseline", "capabilities_baseline"}
    assert {c.id for c in checks_of("baseline")} == {c.id for c in CHECKS if c.level == "baseline"}
    assert checks_of("privileged") == ()


def test_the_policy_rules_are_the_restricted_level_each_check_once() -> None:
    """One definition of each check: the SOPHIA-PSS rules are made of the standard's checks, and cover it."""
    pod = _edit("runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}", "runAsUser: 0")
    pod = _edit("allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}", "procMount: Unmasked", pod)
    resource = _pod(pod)
    from sophia.validate.rule import PolicyContext

    by_rule = {rule.id: [m for _, _, m in rule.check([resource], PolicyContext())] for rule in RULES if "PSS" in rule.id}
    standard = [check.words(v) for check, v in violations(pod_template(resource), "restricted")]  # type: ignore[arg-type]
    assert sorted(m for messages in by_rule.values() for m in messages) == sorted(standard)


def test_versions_change_what_is_allowed() -> None:
    sysctl = _edit("runAsNonRoot: true,", "runAsNonRoot: true, sysctls: [{name: net.ipv4.tcp_rmem, value: '4096'}],")
    assert _found(sysctl, "baseline", 32) == []
    assert [m for _, _, m in _found(sysctl, "baseline", 31)] == ["forbidden sysctls (net.ipv4.tcp_rmem)"]
    windows = _edit("      containers:", "      os: {name: windows}\n      containers:", _edit("allowPrivilegeEscalation: false, ", ""))
    assert _found(windows, "restricted") == [], "Windows pods are exempt from allowPrivilegeEscalation since 1.25"
    assert _found(_edit("drop: [ALL]}", "drop: [ALL]}, runAsUser: 0"), "restricted", 22) == [], "runAsUser=0 since 1.23"
    assert _found(_edit("drop: [ALL]}", "drop: [ALL]}, privileged: true"), "restricted", 24) == [], "before 1.25: not evaluated"


def _write(tmp_path: Path, *docs: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text("---\n".join(textwrap.dedent(d) for d in docs))
    return path


def _verdict(tmp_path: Path, *docs: str) -> list[tuple[str, str, str]]:
    report = validate_paths([_write(tmp_path, *docs)])
    return [(f.rule, f.field, f.message) for f in report.errors]


def test_a_waiver_does_not_change_the_api_servers_answer(tmp_path: Path) -> None:
    waived = _edit("metadata: {name: api, namespace: core}",
                   "metadata:\n  name: api\n  namespace: core\n  annotations: {sophia.ai/waive.SOPHIA-PSS-001: vendor image runs as root}",
                   _edit("runAsNonRoot: true", "runAsNonRoot: false"))
    path = _write(tmp_path, NAMESPACE.replace("{LABELS}", RESTRICTED), waived)
    report = check_paths([str(path)], policy=True, repo_root=tmp_path)
    assert [(f.rule, f.line, f.message) for f in report.errors if f.rule.startswith("API")] == [
        ("API", 18, 'namespace core enforces PodSecurity "restricted:latest": pods would be refused: '
         "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"),
        ("API", 22, 'namespace core enforces PodSecurity "restricted:latest": pods would be refused: '
         'runAsNonRoot != true (pod or container "api" must set securityContext.runAsNonRoot=true)'),
    ]
    assert {f.rule for f in report.waived} == {"SOPHIA-PSS-001"}
    assert not report.ok


def test_enforce_refuses_and_warn_warns(tmp_path: Path) -> None:
    labels = "{pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/warn: restricted}"
    pod = _edit("allowPrivilegeEscalation: false, ", "privileged: true, ")
    assert _verdict(tmp_path, NAMESPACE.replace("{LABELS}", labels), pod) == [
        ("API-WARNING", f"{C}.securityContext.allowPrivilegeEscalation", 'namespace core warns on PodSecurity '
         '"restricted:latest": would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
         '(container "api" must set securityContext.allowPrivilegeEscalation=false)'),
        ("API", f"{C}.securityContext.privileged", 'namespace core enforces PodSecurity "baseline:latest": pods would be '
         'refused: privileged (container "api" must not set securityContext.privileged=true)'),
    ]


def test_a_pod_itself_is_refused(tmp_path: Path) -> None:
    pod = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: debug, namespace: core}
        spec:
          containers: [{name: sh, image: busybox:1.36, securityContext: {allowPrivilegeEscalation: false,
                        capabilities: {drop: [ALL]}, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}}]
          hostNetwork: true
        """
    assert _verdict(tmp_path, NAMESPACE.replace("{LABELS}", RESTRICTED), pod) == [
        ("API", "spec.hostNetwork", 'namespace core enforces PodSecurity "restricted:latest": the pod is refused: '
         "host namespaces (hostNetwork=true)"),
    ]


@pytest.mark.parametrize("namespace", [
    pytest.param("", id="namespace-not-checked"),
    pytest.param(NAMESPACE.replace("{LABELS}", "{app: core}"), id="no-pod-security-label"),
    pytest.param(NAMESPACE.replace("{LABELS}", "{pod-security.kubernetes.io/enforce: privileged}"), id="privileged"),
    pytest.param(NAMESPACE.replace("{LABELS}", "{pod-security.kubernetes.io/audit: restricted}"), id="audit-only-logs"),
    pytest.param(NAMESPACE.replace("{LABELS}", "{pod-security.kubernetes.io/enforce: restricted}").replace("core", "other"),
                 id="another-namespace"),
])
def test_an_unknown_or_permissive_level_gives_no_finding(tmp_path: Path, namespace: str) -> None:
    assert _verdict(tmp_path, *([namespace] if namespace else []), _edit("runAsNonRoot: true", "runAsNonRoot: false")) == []


@pytest.mark.parametrize(("labels", "expected"), [
    ("{pod-security.kubernetes.io/enforce: strict}",
     [("metadata.labels.pod-security.kubernetes.io/enforce", 'Invalid value: "strict": must be one of privileged, baseline, restricted')]),
    ("{pod-security.kubernetes.io/warn: restricted, pod-security.kubernetes.io/warn-version: '1.33'}",
     [("metadata.labels.pod-security.kubernetes.io/warn-version", 'Invalid value: "1.33": must be "latest" or "v1.x"')]),
    ("{pod-security.kubernetes.io/enforce: restricted, pod-security.kubernetes.io/enforce-version: v1.40}", []),
])
def test_invalid_pod_security_labels_are_refused(tmp_path: Path, labels: str, expected: list[tuple[str, str]]) -> None:
    found = _verdict(tmp_path, NAMESPACE.replace("{LABELS}", labels))
    assert [(p, m) for r, p, m in found if r == "API"] == expected


def test_an_object_without_a_namespace_is_in_its_applications(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "dist" / "apps"
    folder.mkdir(parents=True)
    (folder / "Namespace-core.yaml").write_text(NAMESPACE.replace("{LABELS}", RESTRICTED))
    (folder / "Deployment-api.yaml").write_text(_edit("metadata: {name: api, namespace: core}", "metadata: {name: api}",
                                                      _edit("runAsNonRoot: true", "runAsNonRoot: false")))
    (tmp_path / "dist" / "argocd.yaml").write_text(textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: AppProject
        metadata: {name: p, namespace: argocd}
        spec:
          sourceRepos: [https://git.example.com/r.git]
          destinations: [{name: c, namespace: core}]
          clusterResourceWhitelist: [{group: "", kind: Namespace}]
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: apps, namespace: argocd}
        spec:
          project: p
          destination: {name: c, namespace: core}
          source: {repoURL: https://git.example.com/r.git, path: dist/apps, targetRevision: main}
        """))
    report = validate_paths([tmp_path / "dist"])
    assert {(f.rule, f.file.rsplit("/", 1)[-1], f.message.split(":")[0]) for f in report.errors if f.rule != "SCHEMA"} == {
        ("API", "Deployment-api.yaml", 'namespace core enforces PodSecurity "restricted')}


def test_a_waiver_lowers_its_namespace_one_level_below_the_checks_it_waives() -> None:
    """What the compiler writes (constructs.namespace) matches what the validator's rules are made of:
    waiving restricted-only checks needs baseline, waiving a baseline check needs privileged."""
    from sophia.constructs.namespace import POD_SECURITY_WAIVED
    from sophia.validate.pod_security import BY_ID
    from sophia.validate.rules_pods import PSS_CHECKS

    expected = {rule: "baseline" if all(BY_ID[i].level == "restricted" for i in ids) else "privileged"
                for rule, ids in PSS_CHECKS.items()}
    assert POD_SECURITY_WAIVED == expected


def test_the_namespace_level_is_the_lowest_its_waivers_need() -> None:
    from sophia.constructs.namespace import pod_security_for

    assert pod_security_for({"api": set(), "db": {"SOPHIA-RES-001"}}) == ("restricted", ())
    assert pod_security_for({"api": {"SOPHIA-PSS-001"}}) == ("baseline", ("api: SOPHIA-PSS-001",))
    assert pod_security_for({"api": {"SOPHIA-PSS-001"}, "agent": {"SOPHIA-PSS-005"}}) == (
        "privileged", ("agent: SOPHIA-PSS-005", "api: SOPHIA-PSS-001"))
