"""Reading dist/ as it is at a git revision, without a checkout.

`git ls-tree -r -z` lists the blobs below the dist folder and a single `git cat-file --batch`
streams them all: a constant number of git processes, whatever the number of files.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sophia.diff.model import DiffError, is_manifest_path


@dataclass(frozen=True)
class Revision:
    """A resolved revision of a repository and the dist folder inside it."""

    top: Path
    ref: str
    commit: str
    dist: str  # posix path of dist relative to `top`, no trailing slash


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise DiffError("git is not installed or not on PATH") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise DiffError(f"git {args[0]} failed: {message[-1] if message else f'exit status {done.returncode}'}")
    return done.stdout


def resolve(repo: Path, ref: str, dist: Path) -> Revision:
    """Find the repository containing `repo`, resolve `ref` to a commit and `dist` to a path inside it."""
    if not repo.is_dir():
        raise DiffError(f"{repo} is not a folder")
    try:
        top = Path(_git(repo, "rev-parse", "--show-toplevel").decode().strip())
    except DiffError as exc:
        raise DiffError(f"{repo.resolve()} is not inside a git repository ({exc})") from None
    if ref.startswith("-"):
        raise DiffError(f"{ref!r} is not a revision")
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    except DiffError:
        raise DiffError(f"{ref!r} is not a commit in {top}", ) from None
    return Revision(top, ref, commit, _inside(top, dist))


def _inside(top: Path, dist: Path) -> str:
    """`dist` as a posix path relative to the top of the repository (relative paths are taken from the top)."""
    if dist.is_absolute():
        try:
            dist = dist.resolve().relative_to(top.resolve())
        except ValueError:
            raise DiffError(f"{dist} is not inside the repository {top}") from None
    text = PurePosixPath(dist.as_posix()).as_posix().strip("/")
    if text in ("", ".") or ".." in PurePosixPath(text).parts:
        raise DiffError(f"--dist must name a folder inside the repository, not {dist}")
    return text


def read_dist(rev: Revision) -> dict[str, str]:
    """`{path relative to dist: text}` of every YAML file below dist at the revision."""
    listing = _git(rev.top, "ls-tree", "-r", "-z", "--full-tree", rev.commit, "--", f"{rev.dist}/")
    blobs: list[tuple[str, str]] = []
    prefix = f"{rev.dist}/"
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        _mode, kind, sha = meta.decode().split()
        path = raw_path.decode()
        if kind == "blob" and path.startswith(prefix) and is_manifest_path(path):
            blobs.append((path[len(prefix):], sha))
    if not blobs:
        return {}
    out = _git(rev.top, "cat-file", "--batch", stdin="".join(f"{sha}\n" for _, sha in blobs).encode())
    files: dict[str, str] = {}
    pos = 0
    for path, sha in blobs:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split()
        if len(header) != 3 or header[0] != sha:
            raise DiffError(f"unexpected answer from git cat-file for {rev.dist}/{path}: {' '.join(header)}")
        size = int(header[2])
        body = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1  # the body is followed by a newline
        try:
            files[path] = body.decode()
        except UnicodeDecodeError:
            raise DiffError(f"{rev.ref}:{rev.dist}/{path} is not UTF-8 text") from None
    return files


def promotion_of(text: str) -> tuple[str, str] | None:
    """(environment, spec.promotion.revision) of an Environment file's text; None for anything else."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict) or data.get("kind") != "Environment":
        return None
    promotion = (data.get("spec") or {}).get("promotion")
    if not isinstance(promotion, dict) or not isinstance(promotion.get("revision"), str):
        return None
    return str((data.get("metadata") or {}).get("name")), promotion["revision"]


def promoted_revisions(rev: Revision, environments: str) -> dict[str, str]:
    """`{environment: spec.promotion.revision}` of the Environment files below `environments` (a posix
    path from the top of the repository) at the revision; environments that follow a branch are left out."""
    listing = _git(rev.top, "ls-tree", "-r", "-z", "--name-only", "--full-tree", rev.commit, "--", f"{environments}/")
    found: dict[str, str] = {}
    for raw in listing.split(b"\0"):
        path = raw.decode()
        if path.endswith((".yaml", ".yml")):
            promoted = promotion_of(_git(rev.top, "show", f"{rev.commit}:{path}").decode(errors="replace"))
            if promoted is not None:
                found[promoted[0]] = promoted[1]
    return found


def environment_files(rev: Revision, environment: str) -> dict[str, str]:
    """The files of dist/<environment>/ at the revision, as `read_dist` names them."""
    return {p: t for p, t in read_dist(rev).items() if p.startswith(f"{environment}/")}
