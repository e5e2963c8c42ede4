"""Merging: definitions that share an image repository become one service; override fragments and
`build:`-only twins join the service they belong to.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sophia.importer.environment import env_items
from sophia.importer.mapped import UNPINNED_TAG, Mapped, normalise_name
from sophia.importer.ports import parse_port
from sophia.importer.secrets import esc_key
from sophia.values import IMAGE_TAG


def make_services(
    members_in: list[Mapped], services: dict[str, dict[str, Any]], tags: dict[str, str],
    primaries: dict[str, Mapped], duplicates: dict[str, list[str]], used: set[str],
) -> None:
    """Merge definitions by image repository into services (the first definition with a probe leads)."""
    groups: dict[str, list[Mapped]] = {}
    for m in members_in:
        assert m.repository is not None
        groups.setdefault(m.repository, []).append(m)
    for repo, members in groups.items():
        members.sort(key=lambda m: not m.entry.get("probes"))  # stable: the first definition with a probe leads
        first = members[0]
        final = _unique_name(first, repo, used)
        used.add(final)
        for m in members:
            m.final = final
        primaries[final] = first
        services[final] = first.entry
        tags[final] = _pick_tag(members)
        if len(members) > 1:
            where = [f"{m.src.file}:{m.src.name}" for m in members]
            duplicates[final] = where
            for m in members:
                others = ", ".join(w for w in where if w != f"{m.src.file}:{m.src.name}")
                m.note("duplicate-merged", f"same image repository {repo} as {others}")
            tag_set = sorted({m.tag for m in members if m.tag})
            if len(tag_set) > 1:
                first.note("tag-conflict", f"tags differ between duplicates ({', '.join(tag_set)}); release uses {tags[final]}")
        if first.src.name != final:
            first.note("name-normalised", f"compose name {first.src.name!r} written as {final!r}")
        old, new = esc_key(first.name, "x")[:-2], esc_key(final, "x")[:-2]
        for ref in first.entry.get("secrets", {}).values():
            if ref["key"].startswith(old + "."):
                ref["key"] = new + ref["key"][len(old):]


def project_registry(mapped: list[Mapped]) -> str | None:
    """The registry the compose files push their own images to: the one prefix of every image whose
    registry part is a variable (`${DOCKER_REGISTRY:-scoobyjava15}/sophia-ai`), when they agree."""
    prefixes = {m.repository.rsplit("/", 1)[0] for m in mapped
                if m.repository and m.registry_variable and "/" in m.repository and "image-unresolved" not in m.blocking}
    return next(iter(prefixes)) if len(prefixes) == 1 else None


def is_override_file(file: str) -> bool:
    """Compose's override convention: `docker-compose.override.yml`, `compose.override.yaml`, `x.override.yml`."""
    return bool(re.search(r"(^|[./])override\.ya?ml$", file.rsplit("/", 1)[-1]))


def merge_fragments(
    mapped: list[Mapped], duplicates: dict[str, list[str]], *, final: bool
) -> tuple[list[Mapped], list[Mapped]]:
    """Merge fragments and build-only twins onto the service they belong to; return (fragments, built).

    A fragment is a definition without `image:` that is either in an override file (compose merges those
    onto the base file by service name) or has no `build:` either (compose cannot run it alone). It is
    merged when its normalised name is the name or an alias (container_name, hostname, network alias,
    Traefik router) of definitions elsewhere in the import that all landed in one service. Its own
    settings are reported, never applied: they are development overrides (hot-reload mounts, debug
    env and ports) of a service the base file defines.

    A `build:`-only definition in a standalone file whose name is that of one imported service is that
    service built from source: it is merged as a duplicate (the service's image is deployed). Any other
    `build:`-only definition is returned in `built`: it becomes a service of its own whose image CI builds.

    Called twice: first (`final=False`) against the services that name their image, returning the
    definitions to build; then (`final=True`), once those are services too, for the fragments left,
    which match them or are flagged.
    """
    by_name: dict[str, set[str]] = {}
    by_alias: dict[str, set[str]] = {}
    for m in mapped:
        if m.final is not None:
            by_name.setdefault(normalise_name(m.src.name), set()).add(m.final)
            for alias in m.aliases:
                by_alias.setdefault(alias, set()).add(m.final)
    standalone_builds = {m.name for m in mapped if m.repository is None and m.build is not None
                         and not is_override_file(m.src.file)}
    merged: list[Mapped] = []
    built: list[Mapped] = []
    for m in mapped:
        if m.repository is not None or m.final is not None or m.settled:
            continue
        has_build = m.build is not None
        fragment = is_override_file(m.src.file) or not has_build
        finals = sorted(by_name.get(m.name, set()))
        via = f"same name {m.name!r}"
        if not finals and fragment:
            finals = sorted(by_alias.get(m.name, set()))
            via = f"{m.name!r} is how that service is also known (container name, host name, network alias or Traefik router)"
        if len(finals) == 1:
            m.final = finals[0]
            duplicates.setdefault(m.final, [])
            if fragment:
                merged.append(m)
                duplicates[m.final].append(f"{m.src.file}:{m.src.name} (override fragment)")
                m.note("fragment-merged", f"no image: an override fragment of {m.final} ({via} elsewhere in the "
                       "import); counted with that service, its own settings are not applied" + _fragment_settings(m.src.raw))
            else:
                duplicates[m.final].append(f"{m.src.file}:{m.src.name} (built from source)")
                m.note("built-twin-merged", f"only `build:` ({m.build}), and {m.final} is imported under the same name "
                       f"with an image: taken as that service built from source; {m.final}'s image is deployed and "
                       "this definition's settings are not applied" + _fragment_settings(m.src.raw))
            continue
        ambiguous = len(finals) > 1
        if not final and not ambiguous:
            if has_build and (not fragment or m.name not in standalone_builds):
                built.append(m)  # a service of its own, built from source
            continue  # else possibly a fragment of a service built from source: the final pass decides
        why = (f"; definitions named {m.name!r} landed in several services ({', '.join(finals)}), so it is ambiguous"
               if ambiguous else "")
        m.settled = True
        if has_build:
            m.flag("build-without-image", "only `build:` is given, no image to deploy: not imported" + why)
        else:
            m.flag("no-image", "no `image:` and no `build:`, and no service of that name has an image: "
                   "not imported" + why)
    return merged, built


def _fragment_settings(raw: dict[str, Any]) -> str:
    parts: list[str] = []
    env = [k for k, _ in env_items(raw)]
    if env:
        parts.append("env " + ", ".join(env))
    ports = [parse_port(p)[3] for p in raw.get("ports") or []]
    if ports:
        parts.append("ports " + ", ".join(ports))
    for key in ("command", "entrypoint", "build"):
        if key in raw:
            parts.append(f"{key} {raw[key]!r}" if key != "build" else "build (the base's image is deployed)")
    return " (" + "; ".join(parts) + ")" if parts else ""


def _unique_name(first: Mapped, repo: str, used: set[str]) -> str:
    candidates = [first.name, normalise_name(repo.rsplit("/", 1)[-1])]
    for c in candidates:
        if c not in used:
            if c != first.name:
                first.note("name-clash", f"{first.name!r} is taken by another image; written as {c!r}")
            return c
    n = 2
    while f"{first.name}-{n}" in used:
        n += 1
    first.note("name-clash", f"{first.name!r} is taken by another image; written as {first.name}-{n!s}")
    return f"{first.name}-{n}"


def _pick_tag(members: list[Mapped]) -> str:
    real = [m.tag for m in members if m.tag and m.tag != "latest" and IMAGE_TAG.fullmatch(m.tag)]
    if not real:
        return UNPINNED_TAG
    counts = Counter(real)
    best = max(counts.values())
    return next(t for t in real if counts[t] == best)
