"""Volumes: named volumes -> persistent volumes; tmpfs, anonymous volumes and host directories -> scratch
emptyDirs; host files and the Docker socket left out.
"""

from __future__ import annotations

from typing import Any

from sophia.importer.compose import ComposeFile, scalar
from sophia.importer.mapped import Mapped, normalise_name

DEFAULT_VOLUME_SIZE = "10Gi"


def service_volumes(m: Mapped, raw: dict[str, Any], cfile: ComposeFile) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """(scratch paths, persistent volumes) of a definition; host mounts and the Docker socket flagged."""
    scratch: list[str] = []
    volumes: dict[str, dict[str, Any]] = {}
    for item in raw.get("volumes") or []:
        if isinstance(item, dict):
            vtype = str(item.get("type", "volume"))
            source = scalar(item.get("source", "")).text
            target = scalar(item.get("target", "")).text
            read_only = bool(item.get("read_only"))
        else:
            parts = scalar(item).text.split(":")
            if len(parts) == 1:
                source, target, mode = "", parts[0], ""
            else:
                source, target = parts[0], parts[1]
                mode = parts[2] if len(parts) > 2 else ""
            read_only = "ro" in mode.split(",")
            vtype = "bind" if source.startswith(("/", ".", "~", "$")) else ("volume" if source else "anonymous")
        if not target.startswith("/"):
            m.note("volume-skipped", f"volume {item!r} has no absolute target")
            continue
        if vtype == "tmpfs" or vtype == "anonymous" or (vtype == "volume" and not source):
            scratch.append(target)
        elif vtype == "bind":
            if source.endswith("docker.sock"):
                m.flag("docker-socket", f"{source} mounted at {target}: not imported")
            elif read_only or _looks_like_file(target):
                m.flag("host-bind-mount", f"host path {source} -> {target} left out (read-only or a file; the image's own content is used)")
            else:
                m.flag("host-bind-mount", f"host path {source} -> {target} replaced by a scratch emptyDir")
                scratch.append(target)
        else:
            vname = normalise_name(source)
            if vname in volumes:
                vname = f"{vname}-{len(volumes)}"
            volumes[vname] = {"mountPath": target, "size": DEFAULT_VOLUME_SIZE}
            m.note("volume-size-defaulted", f"named volume {source} -> {target}: size {DEFAULT_VOLUME_SIZE} (compose gives none)")
            if source not in cfile.volumes:
                m.note("volume-undeclared", f"volume {source} is not declared under top-level volumes")
    return scratch, volumes


def _looks_like_file(path: str) -> bool:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return "." in last and not last.startswith(".")
