"""PodSecurity admission: the API server's verdict on pods, from the labels of their namespace.

The PodSecurity admission plugin of Kubernetes 1.33 reads three labels of a Namespace:
`pod-security.kubernetes.io/enforce` refuses a Pod that breaks that level of the Pod Security
Standards (a workload is accepted, and the Pods its controller creates are refused), `warn` answers
every Pod and pod template that breaks its level with a warning, and `audit` only writes the audit
log. Each may pin a version (`enforce-version`, default `latest`).

A namespace's labels are known when its Namespace object is among the checked files; a pod whose
namespace is not, or whose label is absent or invalid, gets no finding here (the cluster's default
is not guessed). An object without a namespace is in the namespace Argo CD gives it, the destination
namespace of the Application that syncs its folder, when there is exactly one. A field that breaks
the enforced level is an error (rule API); one that breaks only the warned level, a warning
(API-WARNING, which fails `sophia validate` too). No `sophia.ai/waive.*` annotation changes either:
the policy's SOPHIA-PSS rules may be waived, the API server's answer may not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sophia.values import FieldPath

from .documents import Resource
from .pod_security import LABEL_PREFIX, level_problem, parse_version, violations
from .pod_templates import PodTemplate, mapping, pod_template
from .report import API_RULE, API_WARNING_RULE, Finding, ResourceId

HINT = ("meet the namespace's Pod Security Standard (securityContext of the pod and of every container); "
        "a sophia.ai/waive annotation does not change what the API server admits")


@dataclass(frozen=True)
class Mode:
    """One mode of a namespace's PodSecurity labels: the level and the version it pins."""

    level: str
    version: int
    written: str
    """As the API server prints the policy: `restricted:latest`."""


@dataclass(frozen=True)
class NamespacePolicy:
    name: str
    enforce: Mode | None
    warn: Mode | None


def _mode(labels: Mapping[str, object], mode: str) -> Mode | None:
    """The mode as the labels set it; None when the level is absent or invalid, or the version invalid or too old."""
    level = labels.get(LABEL_PREFIX + mode)
    if level is None or level_problem(level) is not None:
        return None
    written = labels.get(f"{LABEL_PREFIX}{mode}-version", "latest")
    version = parse_version(written)
    return None if version is None else Mode(str(level), version, f"{level}:{written}")


def namespace_policies(resources: Sequence[Resource]) -> dict[str, NamespacePolicy]:
    """The PodSecurity labels of every Namespace object among `resources`, by name."""
    found: dict[str, NamespacePolicy] = {}
    for resource in resources:
        if resource.kind == "Namespace" and resource.api_version == "v1" and resource.name:
            labels = mapping(mapping(resource.data.get("metadata")).get("labels"))
            found[resource.name] = NamespacePolicy(resource.name, _mode(labels, "enforce"), _mode(labels, "warn"))
    return found


def pod_security_findings(
    resources: Sequence[Resource],
    refused: Collection[ResourceId],
    default_namespaces: Mapping[Resource, str],
) -> Iterator[Finding]:
    """What PodSecurity admission answers for every pod and pod template in a namespace whose labels are known.

    `refused`: objects the API server refuses before admission (schema or API errors); their pods never exist.
    """
    policies = namespace_policies(resources)
    if not policies:
        return
    for resource in resources:
        if (resource.file, resource.document) in refused:
            continue
        pod = pod_template(resource)
        if pod is None:
            continue
        policy = policies.get(resource.namespace or default_namespaces.get(resource, ""))
        if policy is not None:
            yield from _judge(resource, pod, policy)


def _judge(resource: Resource, pod: PodTemplate, policy: NamespacePolicy) -> Iterator[Finding]:
    errors: set[FieldPath] = set()
    if policy.enforce is not None:
        refused = "the pod is refused" if resource.kind == "Pod" else "pods would be refused"
        for check, violation in violations(pod, policy.enforce.level, policy.enforce.version):
            errors.add(violation.path)
            yield resource.finding(
                violation.path, API_RULE,
                f'namespace {policy.name} enforces PodSecurity "{policy.enforce.written}": {refused}: '
                f"{check.words(violation)}", HINT)
    if policy.warn is not None and policy.warn != policy.enforce:  # the same mode: every violation is an error already
        for check, violation in violations(pod, policy.warn.level, policy.warn.version):
            if violation.path not in errors:
                yield resource.finding(
                    violation.path, API_WARNING_RULE,
                    f'namespace {policy.name} warns on PodSecurity "{policy.warn.written}": '
                    f'would violate PodSecurity "{policy.warn.written}": {check.words(violation)}', HINT)
