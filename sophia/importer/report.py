"""The import report: what was read, what became a service, and every flag, as JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KINDS: dict[str, tuple[bool, bool, str]] = {
    # kind: (blocks "imported", blocks "imported_strict", what it means)
    "build-without-image": (True, True, "only `build:` is given and its name is that of several imported services: "
                            "ambiguous, not imported"),
    "image-from-build": (False, True, "only `build:` is given: the service deploys the image CI builds from that "
                         "context, named <registry>/sophia-<service> (the project's convention)"),
    "no-image": (True, True, "neither `image:` nor `build:`, and no service of that name has an image: not imported"),
    "image-unresolved": (True, True, "the image repository holds an unset variable: a placeholder repository was written"),
    "tag-invalid": (True, True, "the image tag is not a valid tag: the release gets the unpinned default"),
    "unpinned-image": (False, True, "the tag is `latest`, missing or an unset variable: the release gets the clearly "
                       "marked default 0.0.0-unpinned (pin it in releases/, where promoted versions live)"),
    "ip-literal": (False, True, "an IP literal, and what it points to: replaced by a dependency, or harmless (a bind address)"),
    "ip-unresolved": (True, True, "an env value or command holding an IP that no service of the import answers on (or a "
                      "bind address, which sophia refuses in env) was left out: the service loses a setting it had"),
    "cluster-address": (True, True, "an env value points at another service in a form a dependency cannot carry (path, "
                        "scheme): the variable was left out, a dependency gives network access"),
    "invalid-gpu": (True, True, "an ambiguous GPU ask (`count: all`, `runtime: nvidia` without a count, a fraction): "
                    "no GPU was imported"),
    "invalid-gpu-spec": (False, True, "a GPU ask unusable as written but unambiguous (e.g. NVIDIA-GPU=1 under the wrong "
                         "key): the whole-GPU ask was imported"),
    "no-probe": (False, True, "no healthcheck and no port: written without probes, as compose ran it, with a "
                 "SOPHIA-PROBE-001 waiver in the catalogue saying so (the import invents no probe command)"),
    "env-unresolved": (True, True, "a plain env value holds an unset variable inside other text: the variable was "
                       "left out"),
    "env-from-esc": (False, True, "a plain env value is just an unset variable (`${VAR}`, supplied by the deploy "
                     "shell): it is read from ESC, where values kept out of the repository live"),
    "secret-literal": (False, False, "a sensitive value was written literally: it became an ESC reference (value not copied)"),
    "weak-default": (False, False, "a sensitive value or its default is a well-known weak one: rotate it in ESC"),
    "host-bind-mount": (False, False, "a host path was mounted: replaced by a scratch emptyDir (directories) or left out (files)"),
    "docker-socket": (False, False, "the Docker socket was mounted: not imported; the service loses Docker API access"),
    "privileged": (False, False, "privileged / host namespaces / added capabilities: not imported"),
    "port-clash": (False, False, "two services of one file publish the same host port"),
    "dependency-cycle": (False, False, "dependencies formed a cycle: this edge (from depends_on) was dropped"),
    "dependency-cycle-variable": (True, True, "dependencies formed a cycle: this edge was dropped, and with it an "
                                  "env var the compose file set (the service loses that address)"),
    "dependency-not-imported": (False, False, "a dependency names a service that was not imported: the edge was dropped"),
}
"""Every flag kind. Blocking kinds mean the definition does not count as imported without a hand edit."""


@dataclass(frozen=True, order=True)
class Flag:
    """One finding, tied to the file and compose service it came from."""

    file: str
    service: str
    kind: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"detail": self.detail, "file": self.file, "kind": self.kind, "service": self.service}


@dataclass(frozen=True, order=True)
class Note:
    """Something done on the reader's behalf that is worth knowing but needs no action."""

    file: str
    service: str
    kind: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"detail": self.detail, "file": self.file, "kind": self.kind, "service": self.service}


@dataclass
class Definition:
    """The fate of one compose service definition."""

    file: str
    compose_name: str
    service: str | None
    imported: bool
    blocking: list[str] = field(default_factory=list)
    imported_strict: bool = False
    via: str = "own"  # own | duplicate | fragment | none

    def as_dict(self) -> dict[str, Any]:
        return {
            "blocking": sorted(set(self.blocking)),
            "compose_name": self.compose_name,
            "file": self.file,
            "imported": self.imported,
            "imported_strict": self.imported_strict,
            "service": self.service,
            "via": self.via,
        }


@dataclass
class Report:
    """Everything the import found, in stable order."""

    files: list[str]
    definitions: list[Definition]
    flags: list[Flag]
    notes: list[Note]
    duplicates: dict[str, list[str]]
    inventory: dict[str, int] | None = None
    """Definitions per file of an inventory the reader compares against (`--inventory`), if any."""

    @property
    def imported(self) -> int:
        return sum(1 for d in self.definitions if d.imported)

    def as_dict(self) -> dict[str, Any]:
        total = len(self.definitions)
        strict = sum(1 for d in self.definitions if d.imported_strict)
        out: dict[str, Any] = {
            "definition_of_imported": DEFINITION,
            "definition_of_imported_strict": DEFINITION_STRICT,
            "definitions": [d.as_dict() for d in self.definitions],
            "duplicates_merged": {k: sorted(v) for k, v in sorted(self.duplicates.items())},
            "files": list(self.files),
            "flag_kinds": {k: {"blocking": b, "blocking_strict": bs, "meaning": m}
                           for k, (b, bs, m) in sorted(KINDS.items())},
            "flagged": [f.as_dict() for f in sorted(set(self.flags))],
            "import_rate": round(self.imported / total, 4) if total else 0.0,
            "import_rate_strict": round(strict / total, 4) if total else 0.0,
            "imported": self.imported,
            "imported_strict": strict,
            "landed_in_a_service": sum(1 for d in self.definitions if d.service is not None),
            "merged_as_fragments": sum(1 for d in self.definitions if d.via == "fragment"),
            "notes": [n.as_dict() for n in sorted(set(self.notes))],
            "per_file": self._per_file(),
            "service_definitions": total,
            "services_written": len({d.service for d in self.definitions if d.service}),
        }
        if self.inventory is not None:
            out["inventory"] = self._inventory()
        return out

    def _per_file(self) -> dict[str, dict[str, int]]:
        rows: dict[str, dict[str, int]] = {f: {"definitions": 0, "imported": 0, "imported_strict": 0} for f in self.files}
        for d in self.definitions:
            row = rows.setdefault(d.file, {"definitions": 0, "imported": 0, "imported_strict": 0})
            row["definitions"] += 1
            row["imported"] += int(d.imported)
            row["imported_strict"] += int(d.imported_strict)
        return rows

    def _inventory(self) -> dict[str, Any]:
        inv = self.inventory or {}
        read = {f: row["definitions"] for f, row in self._per_file().items()}
        missing = {f: n for f, n in sorted(inv.items()) if f not in read}
        differs = {f: {"inventory": inv[f], "read": read[f]} for f in sorted(inv) if f in read and inv[f] != read[f]}
        return {"definitions": sum(inv.values()), "files_not_given": missing, "counts_differ": differs}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n"

    def to_markdown(self) -> str:
        data = self.as_dict()
        total = data["service_definitions"]
        lines = [
            "# Compose import report",
            "",
            f"- files read: {len(self.files)}",
            f"- service definitions read: {total}",
            f"- services written: {data['services_written']}",
            f"- **imported without a hand edit: {data['imported']} of {total} ({100 * data['import_rate']:.1f}%)**",
            f"- imported under the strict definition: {data['imported_strict']} of {total}"
            f" ({100 * data['import_rate_strict']:.1f}%)",
            f"- landed in a compiled service (hand edits possibly needed): {data['landed_in_a_service']} of {total}",
            f"- of which override fragments merged onto their service: {data['merged_as_fragments']}",
            "",
            "## How definitions are counted",
            "",
            COUNTING,
        ]
        if self.inventory is not None:
            inv = data["inventory"]
            lines += ["", f"The inventory given with `--inventory` lists {inv['definitions']} definitions; "
                      f"{total} were read here."]
            if inv["files_not_given"]:
                n = sum(inv["files_not_given"].values())
                lines.append(f"{n} of the difference are definitions of files that were not given to this import "
                             "(for the Sophia corpus: files that were not copied into it):")
                lines += [""] + [f"- {f}: {c}" for f, c in inv["files_not_given"].items()]
            for f, c in inv["counts_differ"].items():
                lines.append(f"- {f}: inventory {c['inventory']}, read {c['read']}")
        lines += [
            "",
            "## What \"imported without a hand edit\" means",
            "",
            DEFINITION,
            "",
            "Blocking flag kinds: " + ", ".join(f"`{k}`" for k, (b, _, _) in sorted(KINDS.items()) if b) + ".",
            "",
            "### The strict definition (`imported_strict`)",
            "",
            DEFINITION_STRICT,
            "",
            "Kinds blocking only under the strict definition: "
            + ", ".join(f"`{k}`" for k, (b, bs, _) in sorted(KINDS.items()) if bs and not b) + ".",
            "",
            "## Per file",
            "",
            "| file | definitions | imported | imported (strict) |",
            "|---|---|---|---|",
        ]
        for f, row in data["per_file"].items():
            lines.append(f"| {f} | {row['definitions']} | {row['imported']} | {row['imported_strict']} |")
        lines += [
            "",
            "## Flags",
            "",
            "| file | service | kind | detail |",
            "|---|---|---|---|",
        ]
        for fl in sorted(set(self.flags)):
            lines.append(f"| {fl.file} | {fl.service} | {fl.kind} | {_cell(fl.detail)} |")
        lines += ["", "## Flag kinds", "", "| kind | blocking | blocking (strict) | meaning |", "|---|---|---|---|"]
        for k, (b, bs, m) in sorted(KINDS.items()):
            lines.append(f"| {k} | {'yes' if b else 'no'} | {'yes' if bs else 'no'} | {m} |")
        lines += ["", "## Duplicates and fragments merged", ""]
        if self.duplicates:
            for name, where in sorted(self.duplicates.items()):
                lines.append(f"- `{name}`: " + ", ".join(sorted(where)))
        else:
            lines.append("none")
        lines += ["", "## Definitions", "", "| file | compose service | service | via | imported | strict | blocking |",
                  "|---|---|---|---|---|---|---|"]
        for d in self.definitions:
            lines.append(
                f"| {d.file} | {d.compose_name} | {d.service or '-'} | {d.via} | {'yes' if d.imported else 'no'} | "
                f"{'yes' if d.imported_strict else 'no'} | {', '.join(sorted(set(d.blocking)))} |"
            )
        lines += ["", "## Notes", "", "| file | service | kind | detail |", "|---|---|---|---|"]
        for n in sorted(set(self.notes)):
            lines.append(f"| {n.file} | {n.service} | {n.kind} | {_cell(n.detail)} |")
        return "\n".join(lines) + "\n"


COUNTING = (
    "`service_definitions` counts every entry under `services:` of every file given to the import, once per "
    "file, whether or not it became a service. An inventory that counts more definitions counted files that "
    "were not given (see below when `--inventory` is used)."
)

DEFINITION = (
    "A compose service definition counts as imported when its content landed in a service of the written "
    "catalogue and no blocking flag was raised for the service it landed in. A duplicate (same image "
    "repository as another definition) counts with the fate of the service it was merged into. An override "
    "fragment counts the same way: a definition without `image:` in a compose override file "
    "(`*.override.yml`, which compose merges onto the base file by service name), or a definition with "
    "neither `image:` nor `build:` (which compose cannot run on its own), whose normalised name is exactly the "
    "normalised name, or an alias (container name, host name, network alias, Traefik router), of definitions "
    "elsewhere in the import that all landed in one service; its own settings (development env, ports, "
    "command, bind mounts) are listed in the notes and flags, not applied. A `build:`-only definition in a "
    "standalone file named like one imported service is that service built from source and counts with it. "
    "Any other `build:`-only definition becomes a service whose image is the one CI builds from its context, "
    "named by the project's convention `<registry>/sophia-<service>` (the registry is `--registry`, or the one "
    "registry the compose files parameterise their own images with); it is flagged `image-from-build` and "
    "counts, because building and pushing images is CI work like pinning versions. An image "
    "whose version is unknown (`latest`, no tag, an unset `${IMAGE_TAG}`) is an unknown like a node pool: the "
    "release gets the clearly marked default `0.0.0-unpinned` with a `# SET ME` comment, the definition is "
    "flagged `unpinned-image` and still counts, because pinning versions is release work done in "
    "`releases/*.yaml`. A GPU ask that is unusable as written but unambiguous (NVIDIA-GPU=1 under the wrong "
    "key) is imported as whole GPUs and flagged `invalid-gpu-spec`; an ambiguous one blocks. Hazards replaced "
    "by something safe (host mounts, the Docker socket, privileged mode, literal secrets turned into ESC "
    "references) are flagged but do not block. A service with neither a healthcheck nor a port is written "
    "without probes, as compose ran it, with a reasoned SOPHIA-PROBE-001 waiver, and flagged `no-probe`."
)

DEFINITION_STRICT = (
    "The definition used before unknowns got marked defaults: a definition counts only when it names its own "
    "image (fragments and definitions built from source never count), it has a health check or a port, "
    "that image has a real pinned version in the compose files (an unpinned "
    "default is a hand edit), every GPU ask is valid exactly as written, no IP literal was met, and no "
    "blocking flag was raised for its service."
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
