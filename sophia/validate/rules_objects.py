"""Rules across objects: default-deny per namespace, Services that select pods, Argo CD objects."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sophia.values import FieldPath

from .argocd import application_sources, repository_root
from .documents import Resource
from .pod_templates import pod_template
from .rule import PolicyContext, Rule, Violation, per_resource
from .settings import YAML_SUFFIXES

_ARGO_GROUP = "argoproj.io/"
_MANIFEST_SUFFIXES = (*YAML_SUFFIXES, ".json")


def _counts_for_namespace(resource: Resource) -> bool:
    """Namespaced objects that live next to pods.

    Argo CD's own objects (Application, AppProject) live in Argo CD's namespace and configure the
    controller, not workloads, so they do not ask for a default-deny policy there.
    """
    return bool(resource.namespace) and not resource.api_version.startswith(("sophia.ai/", _ARGO_GROUP))


def is_default_deny(resource: Resource) -> bool:
    if resource.kind != "NetworkPolicy" or not isinstance(resource.data.get("spec"), dict):
        return False
    spec = resource.data["spec"]
    selector = spec.get("podSelector")
    empty_selector = isinstance(selector, dict) and not any(selector.get(k) for k in ("matchLabels", "matchExpressions"))
    types = spec.get("policyTypes") if isinstance(spec.get("policyTypes"), list) else []
    return empty_selector and {"Ingress", "Egress"} <= set(types) and not spec.get("ingress") and not spec.get("egress")


def _default_deny(resources: Sequence[Resource], _: PolicyContext) -> Iterator[Violation]:
    firsts: dict[str, Resource] = {}
    namespace_objects: dict[str, Resource] = {}
    protected: set[str] = set()
    for resource in resources:
        if not isinstance(resource.data, dict):
            continue
        if resource.kind == "Namespace" and resource.api_version == "v1" and resource.name:
            namespace_objects[resource.name] = resource
        if _counts_for_namespace(resource):
            firsts.setdefault(resource.namespace, resource)
            if is_default_deny(resource):
                protected.add(resource.namespace)
    for namespace, first in sorted(firsts.items()):
        if namespace not in protected:
            owner = namespace_objects.get(namespace, first)
            yield owner, (), f'namespace "{namespace}" has no default-deny NetworkPolicy'


def _service_selects_pods(resources: Sequence[Resource], _: PolicyContext) -> Iterator[Violation]:
    pods: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        template = pod_template(resource) if isinstance(resource.data, dict) else None
        if template is not None:
            pods.setdefault(resource.namespace, []).append(template.labels)
    for resource in resources:
        if resource.kind != "Service" or resource.api_version != "v1" or not isinstance(resource.data, dict):
            continue
        spec = resource.data.get("spec")
        if not isinstance(spec, dict):
            continue
        selector = spec.get("selector")
        if not isinstance(selector, dict) or not selector or spec.get("type") == "ExternalName":
            continue
        wanted = selector.items()
        if not any(wanted <= labels.items() for labels in pods.get(resource.namespace, [])):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(selector.items(), key=lambda kv: str(kv[0])))
            yield resource, ("spec", "selector"), f"selector {shown} matches no pod template in the checked set"


def _holds_manifests(folder: Path, recurse: bool) -> bool:
    files = folder.rglob("*") if recurse else folder.iterdir()
    return any(f.suffix in _MANIFEST_SUFFIXES and f.is_file() for f in files)


def _application_paths(resources: Sequence[Resource], context: PolicyContext) -> Iterator[Violation]:
    for resource in resources:
        if resource.kind != "Application" or not resource.api_version.startswith(_ARGO_GROUP):
            continue
        spec = resource.data.get("spec") if isinstance(resource.data, dict) else None
        if not isinstance(spec, dict):
            continue
        for where, source in application_sources(spec):
            path = source.get("path")
            if source.get("chart") or not isinstance(path, str):
                continue
            if context.repositories is not None and source.get("repoURL") not in context.repositories:
                continue  # another project's repository (an add-on's own manifests)
            yield from _check_source_path(resource, (*where, "path"), path, source, context)


def _check_source_path(
    resource: Resource, where: FieldPath, path: str, source: dict[str, Any], context: PolicyContext
) -> Iterator[Violation]:
    root = context.repo_root or repository_root(Path(resource.file).parent)
    if root is None:
        yield resource, where, f'cannot check path "{path}": no .git folder above {resource.file} (use --repo-root)'
        return
    root = root.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        yield resource, where, f'path "{path}" leaves the repository'
    elif not target.is_dir():
        yield resource, where, f'path "{path}" does not exist in the repository ({root})'
    else:
        directory = source.get("directory")
        recurse = isinstance(directory, dict) and directory.get("recurse") is True
        if not _holds_manifests(target, recurse):
            yield resource, where, f'path "{path}" holds no manifests'


def _app_project_scope(resource: Resource) -> Iterator[tuple[FieldPath, str]]:
    if resource.kind != "AppProject" or not resource.api_version.startswith(_ARGO_GROUP):
        return
    spec = resource.data.get("spec")
    if not isinstance(spec, dict):
        return
    repos = spec.get("sourceRepos")
    for i, repo in enumerate(repos if isinstance(repos, list) else []):
        if isinstance(repo, str) and "*" in repo:
            yield ("spec", "sourceRepos", i), f'sourceRepos allows "{repo}"'
    for list_name, keys in (("destinations", ("server", "name", "namespace")), ("clusterResourceWhitelist", ("group", "kind"))):
        items = spec.get(list_name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            for key in keys:
                value = item.get(key) if isinstance(item, dict) else None
                if isinstance(value, str) and "*" in value:
                    yield ("spec", list_name, i, key), f'{list_name}[{i}].{key} is "{value}"'


RULES = (
    Rule("SOPHIA-NET-002", "Every namespace in use has a default-deny NetworkPolicy",
         "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules", _default_deny),
    Rule("SOPHIA-SVC-001", "Every Service selects pods that exist",
         "make spec.selector a subset of a workload's pod template labels in the same namespace",
         _service_selects_pods),
    Rule("SOPHIA-ARGO-001", "Every Argo CD Application source path exists and holds manifests",
         "point spec.source.path at a dist/ folder relative to the repository root", _application_paths),
    Rule("SOPHIA-ARGO-002", "Every AppProject restricts source repositories, destinations and cluster resources",
         "list repositories, servers, namespaces and cluster kinds explicitly, without *",
         per_resource(_app_project_scope)),
)
