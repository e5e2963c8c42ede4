"""Argo CD's verdict: whether the AppProject of each Application lets it sync the objects of its folder.

Argo CD (v3.5) checks every object of a sync against the Application's project before it applies
anything (`IsGroupKindNamePermitted`, `IsDestinationPermitted`), and refuses the sync when one is
not permitted: a cluster-scoped kind that `spec.clusterResourceWhitelist` does not list (or that
`clusterResourceBlacklist` lists), a namespaced kind `namespaceResourceBlacklist` lists or a
`namespaceResourceWhitelist` leaves out, a namespaced object whose namespace (its own, or else the
Application's destination namespace, which Argo CD gives it) no `spec.destinations` entry allows.
It also refuses an Application whose destination or repository its project does not allow.

What is judged: for every Application among the checked files whose AppProject is among them too,
each source that reads a folder of this repository as plain manifests (a `path`, no chart, Helm,
Kustomize or plugin settings; its `repoURL` one of the repository's URLs when they are known),
every checked file in that folder (and below it with `directory.recurse`, as `include`/`exclude`
select). The repository is `--repo-root`, else the nearest folder above the Application holding
`.git`. Files no Application reads get no finding. Whether a kind is namespaced is what the API
server's discovery says (`SchemaCatalog.namespaced`: built-in kinds of Kubernetes 1.33, custom ones
by their pinned CRD's scope); a kind of neither is not judged. A destination that names the cluster
one way (`name`) while the project names it the other (`server`) cannot be resolved offline and is
not judged either.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sophia.values import FieldPath

from .documents import Resource
from .pod_templates import mapping
from .report import ARGOCD_RULE, Finding
from .rule import PolicyContext

ARGO_GROUP = "argoproj.io"
IN_CLUSTER = ("in-cluster", "https://kubernetes.default.svc")
"""The destination Argo CD always knows: the cluster it runs in, by name and by server."""
_RENDERED = ("chart", "helm", "kustomize", "plugin")
"""Source settings that make Argo CD render the folder rather than read its files as they are."""

Namespaced = Callable[[str, str], "bool | None"]
"""(apiVersion, kind) -> whether the kind is namespaced; None when unknown."""


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git`."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return None


def is_argo(resource: Resource, kind: str) -> bool:
    return resource.kind == kind and resource.api_version.rpartition("/")[0] == ARGO_GROUP


def application_sources(spec: dict[str, Any]) -> list[tuple[FieldPath, dict[str, Any]]]:
    """(where, source) of every source of an Application's spec: `source`, then each of `sources`."""
    found: list[tuple[FieldPath, dict[str, Any]]] = []
    if isinstance(spec.get("source"), dict):
        found.append((("spec", "source"), spec["source"]))
    if isinstance(spec.get("sources"), list):
        found.extend((("spec", "sources", i), s) for i, s in enumerate(spec["sources"]) if isinstance(s, dict))
    return found


@dataclass(frozen=True, eq=False)
class Sync:
    """One source of an Application that syncs a folder of this repository as plain manifests."""

    application: Resource
    project: Resource
    root: Path
    folder: str
    """Relative to the repository, `/`-separated, "" for the root."""
    recurse: bool
    include: str
    exclude: str
    namespace: str
    """The Application's destination namespace."""
    cluster: tuple[str, str]
    """The Application's destination (name, server)."""
    _answers: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)
    """What the project answered so far (many objects share a kind and a namespace)."""

    @property
    def spec(self) -> dict[str, Any]:
        return mapping(self.project.data.get("spec"))

    def permits(self, namespace: str) -> bool | None:
        """Whether the project lets this Application's cluster hold objects in `namespace` (None: unknown)."""
        key = ("namespace", namespace)
        if key not in self._answers:
            self._answers[key] = _destination_permitted(self.spec, self.cluster, namespace)
        answer: bool | None = self._answers[key]
        return answer

    def refusal(self, group: str, kind: str, name: str, namespaced: bool) -> tuple[str, str] | None:
        """Why the project refuses the kind, with a hint; None when it permits it."""
        key = ("kind", group, kind, "" if namespaced else name, namespaced)
        if key not in self._answers:
            self._answers[key] = _kind_refusal(self.spec, self.project.name, group, kind, name, namespaced)
        answer: tuple[str, str] | None = self._answers[key]
        return answer

    def reads(self, folder: str) -> bool:
        """Whether this source syncs the files of `folder` (relative to the repository, "" for its root)."""
        if not self.folder:
            return self.recurse or not folder
        return folder == self.folder or (self.recurse and folder.startswith(self.folder + "/"))

    def selects(self, relative: str) -> bool:
        """Whether `directory.include` and `exclude` let this source read the file at `relative`."""
        inside = relative[len(self.folder) + 1:] if self.folder else relative
        if self.include and not _glob_match(self.include, inside):
            return False
        return not (self.exclude and _glob_match(self.exclude, inside))


def applications(resources: Sequence[Resource]) -> Iterator[tuple[Resource, Resource]]:
    """(Application, its AppProject) of every Application among `resources` whose project is among them too."""
    projects = {(r.namespace, r.name): r for r in resources if is_argo(r, "AppProject") and isinstance(r.data, dict)}
    for app in resources:
        if is_argo(app, "Application") and isinstance(app.data, dict):
            project = projects.get((app.namespace, mapping(app.data.get("spec")).get("project") or "default"))
            if project is not None:
                yield app, project


def syncs_of(resources: Sequence[Resource], context: PolicyContext) -> list[Sync]:
    """Every source of an Application among `resources`, with its project among them, that reads a folder here."""
    found: list[Sync] = []
    for app, project in applications(resources):
        spec = mapping(app.data.get("spec"))
        root = context.repo_root or repository_root(Path(app.file).parent)
        if root is None:
            continue
        destination = mapping(spec.get("destination"))
        for _, source in application_sources(spec):
            path = source.get("path")
            if not isinstance(path, str) or any(key in source for key in _RENDERED):
                continue
            if context.repositories is not None and source.get("repoURL") not in context.repositories:
                continue  # another repository (an add-on's own manifests)
            folder = posixpath.normpath(path.strip("/") or ".")
            if folder == ".." or folder.startswith("../"):
                continue
            directory = mapping(source.get("directory"))
            found.append(Sync(
                app, project, root.resolve(), "" if folder == "." else folder, directory.get("recurse") is True,
                _text(directory.get("include")), _text(directory.get("exclude")), _text(destination.get("namespace")),
                (_text(destination.get("name")), _text(destination.get("server"))),
            ))
    return found


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def placements(resources: Sequence[Resource], syncs: Sequence[Sync]) -> dict[Resource, list[Sync]]:
    """The sources that sync each resource, for every resource at least one syncs."""
    found: dict[Resource, list[Sync]] = {}
    if not syncs:
        return found
    by_directory: dict[str, list[tuple[Sync, str]]] = {}
    """The sources that read a folder, with the folder relative to their repository, by the folder as the file names it."""
    for resource in resources:
        directory, _, name = resource.file.rpartition(os.sep)
        readers = by_directory.get(directory)
        if readers is None:
            readers = by_directory[directory] = _readers(os.path.realpath(directory or "."), syncs)
        for sync, folder in readers:
            if not (sync.include or sync.exclude) or sync.selects(f"{folder}/{name}" if folder else name):
                found.setdefault(resource, []).append(sync)
    return found


def _readers(real: str, syncs: Sequence[Sync]) -> list[tuple[Sync, str]]:
    """The sources that read the folder `real` (a resolved path), each with that folder relative to its repository."""
    readers: list[tuple[Sync, str]] = []
    for sync in syncs:
        root = str(sync.root)
        if real == root:
            folder = ""
        elif real.startswith(root.rstrip(os.sep) + os.sep):
            folder = real[len(root.rstrip(os.sep)) + 1:].replace(os.sep, "/")
        else:
            continue
        if sync.reads(folder):
            readers.append((sync, folder))
    return readers


def default_namespaces(found: dict[Resource, list[Sync]]) -> dict[Resource, str]:
    """The namespace Argo CD gives each object without one: its Application's destination namespace, when only one
    Application syncs it."""
    return {r: syncs[0].namespace for r, syncs in found.items() if len({s.namespace for s in syncs}) == 1 and syncs[0].namespace}


def argocd_findings(resources: Sequence[Resource], found: dict[Resource, list[Sync]],
                    namespaced: Namespaced) -> Iterator[Finding]:
    """What Argo CD refuses: Applications their project does not allow, and objects of their folders."""
    for app, project in applications(resources):
        yield from _application(app, project)
    for resource in resources:
        for sync in found.get(resource, ()):
            if isinstance(resource.data, dict) and resource.kind and resource.api_version:
                yield from _object(resource, sync, namespaced(resource.api_version, resource.kind))


def _application(app: Resource, project: Resource) -> Iterator[Finding]:
    spec = mapping(app.data.get("spec"))
    rules = mapping(project.data.get("spec"))
    destination = mapping(spec.get("destination"))
    cluster = (_text(destination.get("name")), _text(destination.get("server")))
    namespace = _text(destination.get("namespace"))
    if _destination_permitted(rules, cluster, namespace) is False:
        shown = cluster[0] or cluster[1] or "(no cluster)"
        yield app.finding(("spec", "destination"), ARGOCD_RULE,
                          f"Argo CD refuses the Application: destination {shown}/{namespace or '(no namespace)'} is not "
                          f"permitted in project {project.name} (spec.destinations)",
                          f"add {{name: {shown}, namespace: {namespace}}} to the destinations of AppProject {project.name}")
    for where, source in application_sources(spec):
        repo = source.get("repoURL")
        if isinstance(repo, str) and not _source_permitted(rules, repo):
            yield app.finding((*where, "repoURL"), ARGOCD_RULE,
                              f"Argo CD refuses the Application: application repo {repo} is not permitted in project "
                              f"{project.name} (spec.sourceRepos)",
                              f"add {repo} to the sourceRepos of AppProject {project.name}")


def _syncs_text(sync: Sync) -> str:
    return f"Application {sync.application.name} syncs {sync.folder or '.'}/"


def _object(resource: Resource, sync: Sync, namespaced: bool | None) -> Iterator[Finding]:
    if namespaced is None:
        return
    group = resource.api_version.rpartition("/")[0]
    project = sync.project.name
    why = sync.refusal(group, resource.kind, resource.name, namespaced)
    if why is not None:
        message, hint = why
        yield resource.finding(("kind",), ARGOCD_RULE,
                               f"Argo CD refuses to sync it: resource {group}:{resource.kind} is not permitted in project "
                               f"{project} ({message}; {_syncs_text(sync)})", hint)
    if not namespaced:
        return
    namespace = resource.namespace or sync.namespace
    if namespace and sync.permits(namespace) is False:
        given = "" if resource.namespace else ", the Application's destination namespace"
        allowed = sorted({str(d.get("namespace")) for d in _items(sync.spec, "destinations")})
        yield resource.finding(
            ("metadata", "namespace") if resource.namespace else (), ARGOCD_RULE,
            f"Argo CD refuses to sync it: namespace {namespace}{given} is not permitted in project {project} "
            f"(spec.destinations; {_syncs_text(sync)})",
            f"use a namespace the project allows ({', '.join(allowed) or 'none'})" + (
                f", or leave metadata.namespace out: Argo CD then puts the object in {sync.namespace}"
                if resource.namespace and sync.namespace and sync.permits(sync.namespace)
                else ""))


def _items(spec: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = spec.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _listed(spec: dict[str, Any], key: str, group: str, kind: str, name: str | None) -> bool:
    """Whether a resource list of the project holds the kind (`isResourceInList`; cluster lists also match by name)."""
    for item in _items(spec, key):
        if (_glob_match(_text(item.get("kind")), kind) and _glob_match(_text(item.get("group")), group)
                and (name is None or not item.get("name") or _glob_match(_text(item.get("name")), name))):
            return True
    return False


def _kind_refusal(spec: dict[str, Any], project: str, group: str, kind: str, name: str,
                  namespaced: bool) -> tuple[str, str] | None:
    """Why the project refuses the kind (and a hint), or None (`IsGroupKindNamePermitted`)."""
    entry = f'{{group: "{group}", kind: {kind}}}'
    if namespaced:
        whitelist = spec.get("namespaceResourceWhitelist")
        if isinstance(whitelist, list) and not _listed(spec, "namespaceResourceWhitelist", group, kind, None):
            return ("spec.namespaceResourceWhitelist does not list it",
                    f"add {entry} to the namespaceResourceWhitelist of AppProject {project}")
        if _listed(spec, "namespaceResourceBlacklist", group, kind, None):
            return ("spec.namespaceResourceBlacklist lists it",
                    f"remove {entry} from the namespaceResourceBlacklist of AppProject {project}, or leave the object out")
        return None
    if not _listed(spec, "clusterResourceWhitelist", group, kind, name):
        return (f"{kind} is cluster-scoped and spec.clusterResourceWhitelist does not list it",
                f"a cluster-scoped object needs {entry} in the clusterResourceWhitelist of AppProject {project}: an "
                "environment's project lists only the kinds sophia writes there; a cluster-wide object belongs to a "
                "cluster add-on, whose entry in the Cluster file lists it under clusterResources")
    if _listed(spec, "clusterResourceBlacklist", group, kind, name):
        return ("spec.clusterResourceBlacklist lists it",
                f"remove {entry} from the clusterResourceBlacklist of AppProject {project}, or leave the object out")
    return None


def _destination_permitted(spec: dict[str, Any], cluster: tuple[str, str], namespace: str) -> bool | None:
    """`isDestinationMatched` of Argo CD: True, False, or None when the cluster cannot be compared offline."""
    name, server = cluster
    if name == IN_CLUSTER[0] and not server:
        server = IN_CLUSTER[1]
    elif server == IN_CLUSTER[1] and not name:
        name = IN_CLUSTER[0]
    matched = unknown = False
    for item in _items(spec, "destinations"):
        item_name, item_server, item_namespace = (_text(item.get(k)) for k in ("name", "server", "namespace"))
        name_ok = bool(name) and _glob_match(item_name, name, negation=True)
        server_ok = bool(server) and _glob_match(item_server, server, negation=True)
        namespace_ok = _glob_match(item_namespace, namespace, negation=True)
        if (name_ok or server_ok) and namespace_ok:
            matched = True
        elif ((not name_ok and item_name.startswith("!")) or (not server_ok and item_server.startswith("!"))
              or (not namespace_ok and item_namespace.startswith("!"))):
            return False
        elif namespace_ok and not ((name and item_name) or (server and item_server)):
            unknown = True
    return True if matched else (None if unknown else False)


def _normal_url(url: str) -> str:
    """A repository URL as Argo CD compares it (`git.NormalizeGitURL`, in the part that matters offline)."""
    url = url.strip().lower().rstrip("/")
    return url.removesuffix(".git")


def _source_permitted(spec: dict[str, Any], repo: str) -> bool:
    """`IsSourcePermitted` of Argo CD."""
    wanted = _normal_url(repo)
    matched = False
    repos = spec.get("sourceRepos")
    for item in repos if isinstance(repos, list) else []:
        if not isinstance(item, str):
            continue
        pattern = ("!" + _normal_url(item[1:])) if item.startswith("!") else _normal_url(item)
        if _glob_match(pattern, wanted, negation=True, separator="/"):
            matched = True
        elif pattern.startswith("!"):
            return False
    return matched


def _glob_match(pattern: str, value: str, *, negation: bool = False, separator: str = "") -> bool:
    """Argo CD's `globMatch` (gobwas/glob): `*`, `?`, `[...]`, `{a,b}`; `!` negates where Argo CD allows it."""
    if negation and pattern.startswith("!"):
        return not _glob_match(pattern[1:], value, separator=separator)
    if pattern == "*":
        return True
    return _glob(pattern, separator).fullmatch(value) is not None


@lru_cache(maxsize=512)
def _glob(pattern: str, separator: str) -> re.Pattern[str]:
    any_char = f"[^{re.escape(separator)}]" if separator else "."
    out, i, depth = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 1
            else:
                out.append(f"{any_char}*")
        elif char == "?":
            out.append(any_char)
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        elif char == "," and depth:
            out.append("|")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + ")" * depth, re.DOTALL)
