"""`sophia release set`, `sophia promote` and `sophia rollback`: day-two changes as edits of the
environment files (comments and layout kept), followed by a synth and the diff it made.

Every command edits, synthesizes, and on any problem puts the edited files back as they were: a
refused promotion changes nothing. What it printed is the `sophia diff` of dist/ before and after.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from sophia.errors import SophiaError
from sophia.model.kinds.environment import Promotion

from .edit import editing, image_of, promote_revision, roll_back, set_image
from .history import PromotionError, on_branch, revision_of, tags_ran, tracked_at

_ENVIRONMENTS = click.option("--environments", type=click.Path(path_type=Path), default=Path("environments"),
                             show_default=True, help="Folder of environment definitions.")
_OUT = click.option("--out", type=click.Path(path_type=Path), default=Path("dist"), show_default=True,
                    help="Output folder, re-synthesized after the edit.")


@dataclass(frozen=True)
class Definitions:
    """Where each Environment and Release of an environments folder is written."""

    environments: dict[str, tuple[Path, dict[str, Any]]]
    releases: dict[str, Path]

    @classmethod
    def read(cls, folder: Path) -> Definitions:
        environments: dict[str, tuple[Path, dict[str, Any]]] = {}
        releases: dict[str, Path] = {}
        for path in sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
            try:
                data = yaml.safe_load(path.read_text())
            except (OSError, yaml.YAMLError):
                continue  # `sophia synth` words it
            if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
                continue
            name = str(data["metadata"].get("name"))
            if data.get("kind") == "Environment":
                environments[name] = (path, data)
            elif data.get("kind") == "Release":
                releases[name] = path
        return cls(environments, releases)

    def environment(self, name: str) -> tuple[Path, dict[str, Any]]:
        if name not in self.environments:
            raise PromotionError(f"environment {name!r} is not defined (defined: {', '.join(sorted(self.environments)) or 'none'})")
        return self.environments[name]

    def release_file(self, env: str) -> Path:
        _, data = self.environment(env)
        release = str((data.get("spec") or {}).get("release"))
        if release not in self.releases:
            raise PromotionError(f"environment {env!r} runs release {release!r}, which is not defined")
        return self.releases[release]

    def branch_of(self, env: str) -> str:
        """The branch `env` follows (a promoted environment follows its deploy branch)."""
        spec = self.environment(env)[1].get("spec") or {}
        promotion = spec.get("promotion")
        if isinstance(promotion, dict):
            return Promotion.model_validate(promotion).deploy_branch(env)
        return str((spec.get("source") or {}).get("targetRevision") or "main")

    def running(self, env: str) -> str:
        """The revision a promoted environment runs now."""
        return str(self.environment(env)[1]["spec"]["promotion"]["revision"])

    def source_path(self, env: str) -> str:
        """The folder of the repository Argo CD reads `env`'s dist/ from."""
        source = (self.environment(env)[1].get("spec") or {}).get("source") or {}
        return str(source.get("path") or "dist").rstrip("/")

    def root_application(self, env: str) -> str:
        """The file of `env`'s root Application, from the top of the repository Argo CD reads."""
        return f"{self.source_path(env)}/{env}/argocd/Application-{env}-root.yaml"

    def check_runnable(self, repo: Path, env: str, commit: str) -> None:
        """`commit` can be run through `env`'s deploy branch: its dist/ holds the environment, every
        Application tracking that branch (a commit from before the branch, whose root followed
        main, would hand the environment back to main)."""
        branch = self.branch_of(env)
        root = self.root_application(env)
        tracked = tracked_at(repo, commit, root)
        if tracked is None:
            raise PromotionError(f"{commit[:12]} has no {root}: it holds no {env} to run")
        if tracked != branch:
            raise PromotionError(f"at {commit[:12]}, {env}'s root Application tracks {tracked!r}, not its deploy "
                                 f"branch {branch!r}: that commit predates deploy branches and cannot be run from one")

    def source_of(self, env: str) -> str | None:
        """The environment `env` is promoted from, if any."""
        promotion = (self.environment(env)[1].get("spec") or {}).get("promotion")
        return str(promotion["from"]) if isinstance(promotion, dict) and promotion.get("from") else None


def apply(edits: list[tuple[Path, Callable[[Any], object]]], environments: Path, out: Path) -> None:
    """Make the edits, synthesize, print the diff; on any problem restore the files and exit 1."""
    from sophia.diff.engine import compare
    from sophia.diff.render_text import render_text
    from sophia.pipeline import synth
    from sophia.write import read_tree

    before = {path: path.read_text() for path, _ in edits}
    old = {rel: data.decode() for rel, data in read_tree(out).items() if rel.endswith(".yaml")}
    try:
        for path, edit in edits:
            with editing(path) as document:
                edit(document)
        synth(environments, out)
    except (SophiaError, KeyError, TypeError) as exc:
        for path, text in before.items():
            path.write_text(text)
        message = exc.render() if isinstance(exc, SophiaError) else f"error: cannot edit: {exc}"
        click.echo(message, err=True)
        click.echo("nothing was changed", err=True)
        sys.exit(1)
    new = {rel: data.decode() for rel, data in read_tree(out).items() if rel.endswith(".yaml")}
    report = compare(old, new, old_label="before", new_label="after", old_prefix=f"{out}/", new_prefix=f"{out}/")
    click.echo(render_text(report, color=sys.stdout.isatty()))


def _reaches(definitions: Definitions, env: str, source: str | None) -> list[str]:
    """What to tell about when an edit of `env`'s Release takes effect."""
    if definitions.source_of(env) is None:
        return []
    return [f"{env} runs dist/ as of its promoted revision (branch {definitions.branch_of(env)}): this change reaches "
            f"it with the next `sophia promote {source or definitions.source_of(env)} {env}` after it is merged, "
            f"together with whatever else is pending (`sophia diff --pending {env}`)."]


def _fail(exc: PromotionError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _check_tested(definitions: Definitions, env: str, service: str, tag: str, force: bool, reason: str) -> str:
    """'' when `tag` ran in the environment `env` is promoted from; the note to write when forced."""
    source = definitions.source_of(env)
    if source is None:
        return ""
    branch = definitions.branch_of(source)
    ran = tags_ran(definitions.release_file(source), service, branch)
    if tag in ran:
        return ""
    if not force:
        raise PromotionError(f"{source} never ran {service} {tag} (it ran: {', '.join(sorted(ran)) or 'nothing'}, "
                             f"as merged to {branch}); {env} runs what {source} tested. "
                             "To pin it anyway: --force --reason '<why>'")
    if len((reason or "").strip()) < 10:
        raise PromotionError("--force needs --reason '<why>' (at least 10 characters): it is written beside the tag")
    return f"forced: {reason.strip()} (not run in {source})"


@click.group("release")
def release() -> None:
    """Image versions of an environment's Release."""


@release.command("set")
@click.argument("service")
@click.argument("tag")
@click.option("--env", "env", default="development", show_default=True, help="Environment whose Release is edited.")
@click.option("--force", is_flag=True, help="Pin a tag the environment it is promoted from never ran.")
@click.option("--reason", default="", help="Why a tag is forced (written beside it).")
@_ENVIRONMENTS
@_OUT
def release_set(service: str, tag: str, env: str, force: bool, reason: str, environments: Path, out: Path) -> None:
    """Pin SERVICE to the image TAG in ENV's Release, re-synthesize, and show what changed."""
    try:
        definitions = Definitions.read(environments)
        release_file = definitions.release_file(env)
        note = _check_tested(definitions, env, service, tag, force, reason)
    except PromotionError as exc:
        _fail(exc)
        return
    apply([(release_file, lambda doc: set_image(doc, service, tag, note))], environments, out)
    for line in _reaches(definitions, env, None):
        click.echo(line)


@click.command("promote")
@click.argument("source")
@click.argument("target")
@click.argument("services", nargs=-1)
@click.option("--revision", default=None, help="Commit to promote (default: the one SOURCE follows now).")
@_ENVIRONMENTS
@_OUT
def promote(source: str, target: str, services: tuple[str, ...], revision: str | None, environments: Path, out: Path) -> None:
    """Give TARGET what SOURCE runs: the images of SERVICES, or (with no SERVICES) SOURCE's revision.

    With SERVICES, each one's image tag is copied from SOURCE's Release to TARGET's. Without, TARGET's
    applications are pointed at the commit SOURCE follows (its branch's tip, or --revision): every
    change to the catalogue, the Cluster or sophia's own code that SOURCE synced reaches TARGET.
    """
    try:
        definitions = Definitions.read(environments)
        edits: list[tuple[Path, Callable[[Any], object]]] = []
        if services:
            with Path(definitions.release_file(source)).open() as handle:
                tested = yaml.safe_load(handle)
            tags = {service: image_of(tested, service) for service in services}
            missing = sorted(s for s, t in tags.items() if t is None)
            if missing:
                raise PromotionError(f"{source}'s Release pins no tag for {', '.join(missing)}")
            branch = definitions.branch_of(source)
            for service, tag in tags.items():
                if tag not in tags_ran(definitions.release_file(source), service, branch):
                    raise PromotionError(f"{source} has {service} {tag} in its Release but never ran it (not on "
                                         f"{branch}): merge it first, or pin it with `sophia release set {service} "
                                         f"{tag} --env {target} --force --reason '<why>'`")

            def copy(doc: Any) -> None:
                for service, tag in tags.items():
                    assert tag is not None
                    set_image(doc, service, tag)

            edits.append((definitions.release_file(target), copy))
            notes = _reaches(definitions, target, source)
        else:
            path, _ = definitions.environment(target)
            if definitions.source_of(target) != source:
                raise PromotionError(f"{target} is not promoted from {source} (set spec.promotion.from in {path})")
            followed = definitions.branch_of(source)
            commit = revision_of(environments, revision or followed)
            if not on_branch(environments, commit, followed):
                raise PromotionError(f"{commit[:12]} is not on {followed}, which {source} follows: {source} never ran it")
            definitions.check_runnable(environments, target, commit)
            running = definitions.running(target)

            def move(doc: Any) -> None:
                old = promote_revision(doc, commit)
                click.echo(f"{target}: already runs {commit[:12]}" if old == commit else f"{target}: {old[:12]} -> {commit[:12]}")

            edits.append((path, move))
            notes = [f"{target} runs this revision once the change is merged: the promote workflow then moves its "
                     f"deploy branch {definitions.branch_of(target)} there."]
    except PromotionError as exc:
        _fail(exc)
        return
    apply(edits, environments, out)
    if not services:
        _show_promotion(definitions, environments, target, running, commit)
    for note in notes:
        click.echo(note)


def _show_promotion(definitions: Definitions, repo: Path, env: str, old: str, new: str) -> None:
    """What moving `env` from revision `old` to `new` will change in the cluster, risks first."""
    from sophia.diff.command import run_promotion
    from sophia.diff.render_text import render_text

    if old == new:
        return
    try:
        report = run_promotion(repo, Path(definitions.source_path(env)), env, old, new)
    except SophiaError as exc:
        click.echo(f"(cannot show what {env} will change: {exc})")
        return
    click.echo(f"What {env} will change once merged:")
    click.echo(render_text(report, color=sys.stdout.isatty()))


@click.command("rollback")
@click.argument("env")
@_ENVIRONMENTS
@_OUT
def rollback(env: str, environments: Path, out: Path) -> None:
    """Point ENV's applications back at the revision promoted before the current one."""
    try:
        definitions = Definitions.read(environments)
        path, data = definitions.environment(env)
        if not (data.get("spec") or {}).get("promotion"):
            raise PromotionError(f"{env} is not promoted from another environment: it follows its branch")
        history = data["spec"]["promotion"].get("history")
        if not history:
            raise PromotionError(f"{env} has no earlier promoted revision to go back to")
        definitions.check_runnable(environments, env, str(history[0]))
        running = definitions.running(env)
    except PromotionError as exc:
        _fail(exc)
        return

    def back(doc: Any) -> None:
        old, new = roll_back(doc)
        click.echo(f"{env}: {old[:12]} -> {new[:12]}")

    apply([(path, back)], environments, out)
    _show_promotion(definitions, environments, env, running, str(history[0]))


@click.command("deploy-branches")
@_ENVIRONMENTS
def deploy_branches(environments: Path) -> None:
    """Print `BRANCH REVISION ENVIRONMENT` for every promoted environment: the commit each deploy
    branch must point at. The promote workflow reads it and moves the branches."""
    from sophia.model.loader import load

    try:
        platform = load(environments)
    except SophiaError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)
    for name, env in sorted(platform.environments.items()):
        if env.spec.promotion is not None:
            click.echo(f"{env.spec.promotion.deploy_branch(name)} {env.spec.promotion.revision} {name}")


@click.command("pin-applications")
@click.argument("env")
@click.argument("revision")
@click.option("--dist", "dist", type=click.Path(path_type=Path, file_okay=False, exists=True), required=True,
              help="dist/ of a checkout of REVISION (the deploy commit is made there).")
@_ENVIRONMENTS
def pin_applications(env: str, revision: str, dist: Path, environments: Path) -> None:
    """Point every Application of ENV in DIST, its root excepted, at the commit REVISION.

    The promote workflow runs it on a checkout of the promoted revision and commits the result as
    the tip of ENV's deploy branch: the root, which tracks the branch, then sees each child's
    targetRevision change and syncs them in their waves, each child reading dist/ at REVISION.
    """
    from sophia.yamlout import dump

    try:
        definitions = Definitions.read(environments)
        if definitions.source_of(env) is None:
            raise PromotionError(f"{env} is not promoted: it follows its branch")
        branch = definitions.branch_of(env)
    except PromotionError as exc:
        _fail(exc)
        return
    pinned = 0
    for path in sorted((dist / env / "argocd").glob("Application-*.yaml")):
        app = yaml.safe_load(path.read_text())
        source = app.get("spec", {}).get("source", {})
        if app["metadata"]["name"] == f"{env}-root" or source.get("targetRevision") != branch:
            continue
        source["targetRevision"] = revision
        path.write_text(dump(app))
        pinned += 1
    if pinned == 0:
        _fail(PromotionError(f"no Application of {env} in {dist} tracks {branch}: is it a checkout of a promoted revision?"))
    click.echo(f"{env}: {pinned} Applications pinned to {revision[:12]}; the root tracks {branch}")
