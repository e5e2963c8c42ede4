"""`sophia diff [ENV...] [--against REF]`: what merging the working tree would make Argo CD do."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sophia.diff.engine import DiffReport, compare
from sophia.diff.gitread import Revision, environment_files, promoted_revisions, promotion_of, read_dist, resolve
from sophia.diff.model import DiffError
from sophia.errors import SophiaError

EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


def run_diff(environments: Path, repo: Path, against: str, dist: Path, envs: tuple[str, ...] = ()) -> DiffReport:
    """Compile `environments` in memory and compare the result with dist/ at `against`; raises `SophiaError`.

    A promoted environment runs dist/<env>/ as of its promoted revision, whatever main holds: its side
    of the comparison is dist/<env>/ at the revision `against` promoted and at the one the working tree
    promotes, so a promotion or a rollback shows what it will change, and any other change nothing
    for it (`--pending` shows what waits).
    """
    from sophia.pipeline import compile_tree  # starts the jsii runtime: only once git has answered

    rev = resolve(repo, against, dist)
    old = read_dist(rev)
    new = compile_tree(environments)  # the files are valid: it raised otherwise
    now = dict(filter(None, (promotion_of(p.read_text()) for p in sorted(environments.rglob("*.y*ml")))))
    notes = []
    try:
        folder = environments.resolve().relative_to(rev.top.resolve()).as_posix()
    except ValueError:
        folder = None  # environments outside the repository: nothing to read at `against`
    before = promoted_revisions(rev, folder) if folder is not None and now else {}
    for name, revision in sorted(now.items()):
        if name not in before:
            continue
        try:
            was, will = _at(rev, before[name], name), _at(rev, revision, name)
        except DiffError:  # a revision this clone lacks (shallow, or not fetched): as main holds it
            notes.append(f"{name} shown as main holds it ({revision[:12]} is not in this clone)")
            continue
        old = {p: t for p, t in old.items() if not p.startswith(f"{name}/")} | was
        new = {p: t for p, t in new.items() if not p.startswith(f"{name}/")} | will
        notes.append(f"{name} at {before[name][:12]}" + ("" if revision == before[name] else f" -> {revision[:12]}"))
    promoted = f"; promoted: {', '.join(notes)}" if notes else ""
    return compare(old, new, environments=envs, old_label=f"{against} ({rev.commit[:12]})",
                   new_label=f"working tree{promoted}", old_prefix=f"{against}:{rev.dist}/", new_prefix=f"{rev.dist}/")


def _at(rev: Revision, commit: str, environment: str) -> dict[str, str]:
    return environment_files(resolve(rev.top, commit, Path(rev.dist)), environment)


def run_promotion(repo: Path, dist: Path, environment: str, old: str, new: str) -> DiffReport:
    """What moving `environment` from the promoted revision `old` to `new` changes in the cluster."""
    rev = resolve(repo, new, dist)
    return compare(_at(rev, old, environment), _at(rev, new, environment), environments=(environment,),
                   old_label=f"{environment} at {old[:12]}", new_label=f"{environment} at {new[:12]}",
                   old_prefix=f"{old[:12]}:{rev.dist}/", new_prefix=f"{new[:12]}:{rev.dist}/")


def run_pending(environments: Path, repo: Path, dist: Path, envs: tuple[str, ...] = ()) -> DiffReport:
    """For each promoted environment: main's output beyond the revision its applications sync.

    An environment with `spec.promotion` runs dist/<env>/ as of `promotion.revision` (its deploy
    branch), its Applications included; what a synth of the working tree gives for it beyond that
    is waiting for `sophia promote`.
    """
    from sophia.model.loader import load
    from sophia.pipeline import compile_platform

    platform = load(environments)
    promoted = {name: env.spec.promotion.revision for name, env in platform.environments.items()
                if env.spec.promotion is not None and (not envs or name in envs)}
    unknown = sorted(set(envs) - set(platform.environments))
    if unknown:
        raise DiffError(f"unknown environment(s): {', '.join(unknown)}")
    not_promoted = sorted(set(envs) - set(promoted))
    if not_promoted:
        raise DiffError(f"{', '.join(not_promoted)} follow(s) a branch: nothing waits to be promoted")
    new = compile_platform(platform)
    old: dict[str, str] = {}
    labels = []
    for name, revision in sorted(promoted.items()):
        rev = resolve(repo, revision, dist)
        old.update({p: t for p, t in read_dist(rev).items() if p.startswith(f"{name}/")})
        labels.append(f"{name} at {revision[:12]}")

    def promoted_envs(files: dict[str, str]) -> dict[str, str]:
        return {p: t for p, t in files.items() if p.split("/", 1)[0] in promoted}

    return compare(promoted_envs(old), promoted_envs(new), environments=tuple(sorted(promoted)),
                   old_label="promoted (" + ", ".join(labels) + ")", new_label="pending on the working tree",
                   old_prefix="promoted:" + str(dist) + "/", new_prefix=f"{dist}/")


@click.command("diff")
@click.argument("envs", metavar="[ENV]...", nargs=-1)
@click.option("--against", "against", default="HEAD", show_default=True, metavar="REF", help="Git revision whose dist/ is the baseline.")
@click.option("--environments", "environments", type=click.Path(path_type=Path), default=Path("environments"), show_default=True,
              help="Folder of environment definitions (the working tree side).")
@click.option("--dist", "dist", type=click.Path(path_type=Path), default=Path("dist"), show_default=True,
              help="Path of the output folder inside the repository (relative to its top level).")
@click.option("--repo", "repo", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="A folder inside the git repository to read REF from.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="Terminal text, or Markdown for a pull-request comment.")
@click.option("--no-color", "no_color", is_flag=True, help="No colours, even on a terminal.")
@click.option("--pending", is_flag=True,
              help="For promoted environments: what the working tree holds beyond the revision they run.")
def diff(envs: tuple[str, ...], against: str, environments: Path, dist: Path, repo: Path, fmt: str, no_color: bool,
         pending: bool) -> None:
    """Show what a synth of ENVIRONMENTS changes in dist/ relative to REF, object by object, with risks.

    Objects are matched by (group, kind, namespace, name) per environment and Argo CD application
    folder. Only the given ENVs (top-level folders of dist/) are compared, all when none is given.
    Objects whose only change is to their labels (an image bump's app.kubernetes.io/version) are
    summarised in one line per service; every other change is shown in full.

    Exit status (like diff and kubectl diff): 0 no difference, 1 differences, 2 error.
    """
    try:
        report = run_pending(environments, repo, dist, envs) if pending else run_diff(environments, repo, against, dist, envs)
    except SophiaError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(EXIT_ERROR)
    if fmt == "markdown":
        from sophia.diff.render_markdown import render_markdown

        click.echo(render_markdown(report), nl=False)
    else:
        from sophia.diff.render_text import render_text

        click.echo(render_text(report, color=not no_color), nl=False, color=False if no_color else None)
    sys.exit(EXIT_DIFFERENT if report.has_differences else EXIT_SAME)
