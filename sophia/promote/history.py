"""What git knows of an environment: the image tags it ran, and the revision it follows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from sophia.errors import SophiaError

MAX_COMMITS = 500
"""Commits of a Release file read back to find the tags an environment ran."""


class PromotionError(SophiaError):
    """A promotion that cannot be made as asked (exit status 1, nothing changed)."""


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PromotionError("git is not installed or not on PATH") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise PromotionError(f"git {args[0]} failed: {lines[-1] if lines else done.returncode}")
    return done.stdout


def tags_ran(release_file: Path, service: str, branch: str) -> set[str]:
    """Every tag `service` had in `release_file` on `branch` (the remote's when there is one), the
    branch the environment follows: what it synced, not what the working tree or another branch holds."""
    folder = release_file.resolve().parent
    top = Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    if _git(top, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise PromotionError("this clone's history is shallow, so the tags an environment ran cannot be read: "
                             "git fetch --unshallow (in a workflow: actions/checkout with fetch-depth: 0)")
    tip = revision_of(top, branch)
    relative = release_file.resolve().relative_to(top).as_posix()
    texts = []
    for commit in _git(top, "log", f"--max-count={MAX_COMMITS}", "--format=%H", tip, "--", relative).split():
        try:
            texts.append(_git(top, "show", f"{commit}:{relative}"))
        except PromotionError:
            continue  # the file did not exist under this name then
    tags: set[str] = set()
    for text in texts:
        try:
            entry = ((yaml.safe_load(text) or {}).get("spec") or {}).get("images", {}).get(service)
        except yaml.YAMLError:
            continue
        if isinstance(entry, dict) and entry.get("tag") is not None:
            tags.add(str(entry["tag"]))
    return tags


def revision_of(repo: Path, ref: str) -> str:
    """The commit `ref` (a branch an environment follows) points at: the remote's when there is one."""
    for candidate in (f"origin/{ref}", ref):
        try:
            return _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}").strip()
        except PromotionError:
            continue
    raise PromotionError(f"{ref!r} is not a branch or commit of {repo.resolve()}")


def tracked_at(repo: Path, commit: str, application_file: str) -> str | None:
    """The `targetRevision` an Application file holds at `commit` (a path from the top of the
    repository), or None when the file does not exist there."""
    top = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    try:
        text = _git(top, "show", f"{commit}:{application_file}")
    except PromotionError:
        return None
    try:
        data = yaml.safe_load(text)
        return str(data["spec"]["source"]["targetRevision"])
    except (yaml.YAMLError, KeyError, TypeError):
        return None


def on_branch(repo: Path, commit: str, branch: str) -> bool:
    """Whether `commit` is in the history of `branch` (the remote's when there is one)."""
    tip = revision_of(repo, branch)
    done = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", commit, tip],
                          capture_output=True, text=True, check=False)
    return done.returncode == 0
