"""The import report: what was read, what became a service, and every flag, as JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KINDS: dict[str, tuple[bool, str]] = {
    # kind: (needs a hand edit before the service is right, what it means)
    "build-without-image": (True, "only `build:` is given: there is no image to deploy, the service is not imported"),
    "no-image": (True, "neither `image:` nor `build:` (an override fragment): the service is not imported"),
    "image-unresolved": (True, "the image repository holds an unset variable: a placeholder repository was written"),
    "tag-unresolved": (True, "the image tag is an unset variable: placeholder tag 0.0.0-set-me written to the release"),
    "tag-latest": (True, "the image tag is `latest`, which is not a version: placeholder tag 0.0.0-set-me written"),
    "tag-missing": (True, "the image has no tag (so `latest`): placeholder tag 0.0.0-set-me written"),
    "ip-literal": (True, "an IP address was dropped (env value or command); set the address by dependency or name"),
    "invalid-gpu": (True, "a GPU ask that is not a whole number of GPUs in a valid place: no GPU was imported"),
    "env-unresolved": (True, "a plain env value holds an unset variable: the variable was left out"),
    "secret-literal": (False, "a sensitive value was written literally: it became an ESC reference (value not copied)"),
    "weak-default": (False, "a sensitive value or its default is a well-known weak one: rotate it in ESC"),
    "host-bind-mount": (False, "a host path was mounted: replaced by a scratch emptyDir (directories) or left out (files)"),
    "docker-socket": (False, "the Docker socket was mounted: not imported; the service loses Docker API access"),
    "privileged": (False, "privileged / host namespaces / added capabilities: not imported"),
    "port-clash": (False, "two services of one file publish the same host port"),
    "dependency-cycle": (False, "dependencies formed a cycle: this edge was dropped"),
    "dependency-not-imported": (False, "a dependency names a service that was not imported: the edge was dropped"),
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "blocking": sorted(set(self.blocking)),
            "compose_name": self.compose_name,
            "file": self.file,
            "imported": self.imported,
            "service": self.service,
        }


@dataclass
class Report:
    """Everything the import found, in stable order."""

    files: list[str]
    definitions: list[Definition]
    flags: list[Flag]
    notes: list[Note]
    duplicates: dict[str, list[str]]

    @property
    def imported(self) -> int:
        return sum(1 for d in self.definitions if d.imported)

    def as_dict(self) -> dict[str, Any]:
        total = len(self.definitions)
        landed = sum(1 for d in self.definitions if d.service is not None)
        only_versions = sum(
            1 for d in self.definitions
            if d.service is not None and set(d.blocking) <= {"tag-latest", "tag-missing", "tag-unresolved"}
        )
        return {
            "definition_of_imported": DEFINITION,
            "definitions": [d.as_dict() for d in self.definitions],
            "duplicates_merged": {k: sorted(v) for k, v in sorted(self.duplicates.items())},
            "files": list(self.files),
            "flag_kinds": {k: {"blocking": b, "meaning": m} for k, (b, m) in sorted(KINDS.items())},
            "flagged": [f.as_dict() for f in sorted(set(self.flags))],
            "import_rate": round(self.imported / total, 4) if total else 0.0,
            "imported": self.imported,
            "landed_in_a_service": landed,
            "landed_needing_only_a_version": only_versions,
            "notes": [n.as_dict() for n in sorted(set(self.notes))],
            "service_definitions": total,
            "services_written": len({d.service for d in self.definitions if d.service}),
        }

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
            f"- **imported without a hand edit: {data['imported']} of {total}"
            f" ({100 * data['import_rate']:.1f}%)**",
            f"- landed in a compiled service (hand edits possibly needed): {data['landed_in_a_service']} of {total}",
            f"- landed and need nothing but an image version pinned: {data['landed_needing_only_a_version']} of {total}",
            "",
            "## What \"imported without a hand edit\" means",
            "",
            DEFINITION,
            "",
            "Blocking flag kinds: " + ", ".join(f"`{k}`" for k, (b, _) in sorted(KINDS.items()) if b) + ".",
            "",
            "## Flags",
            "",
            "| file | service | kind | detail |",
            "|---|---|---|---|",
        ]
        for f in sorted(set(self.flags)):
            lines.append(f"| {f.file} | {f.service} | {f.kind} | {_cell(f.detail)} |")
        lines += ["", "## Flag kinds", "", "| kind | blocking | meaning |", "|---|---|---|"]
        for k, (b, m) in sorted(KINDS.items()):
            lines.append(f"| {k} | {'yes' if b else 'no'} | {m} |")
        lines += ["", "## Duplicates merged", ""]
        if self.duplicates:
            for name, where in sorted(self.duplicates.items()):
                lines.append(f"- `{name}`: " + ", ".join(sorted(where)))
        else:
            lines.append("none")
        lines += ["", "## Definitions", "", "| file | compose service | service | imported | blocking |", "|---|---|---|---|---|"]
        for d in self.definitions:
            lines.append(
                f"| {d.file} | {d.compose_name} | {d.service or '-'} | {'yes' if d.imported else 'no'} | "
                f"{', '.join(sorted(set(d.blocking)))} |"
            )
        lines += ["", "## Notes", "", "| file | service | kind | detail |", "|---|---|---|---|"]
        for n in sorted(set(self.notes)):
            lines.append(f"| {n.file} | {n.service} | {n.kind} | {_cell(n.detail)} |")
        return "\n".join(lines) + "\n"


DEFINITION = (
    "A compose service definition counts as imported when its content landed in a service of the "
    "written catalogue (a duplicate merged into another definition's service counts, with the fate of "
    "that service) and no blocking flag was raised for it or for the service it landed in: it has a real "
    "image repository and a real version (a placeholder tag such as 0.0.0-set-me is a hand edit, and "
    "`latest` is not a version), every GPU ask it states was importable, and no address or env value it "
    "needs was dropped. Hazards that were replaced by something safe (host mounts, the Docker socket, "
    "privileged mode, literal secrets turned into ESC references) are flagged but do not block: the "
    "written service compiles and runs, though it should be reviewed. A definition with only `build:` "
    "(no image) is never imported."
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
