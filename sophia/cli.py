"""The `sophia` command line. Thin: every command calls the pipeline or a checker module."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from sophia.errors import SophiaError

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ENVIRONMENTS = click.option(
    "--environments", "environments", type=click.Path(path_type=Path), default=Path("environments"),
    show_default=True, help="Folder of environment definitions.",
)
OUT = click.option(
    "--out", "out", type=click.Path(path_type=Path), default=Path("dist"), show_default=True,
    help="Output folder (replaced atomically).",
)


def fail(exc: SophiaError, out: Path | None = None) -> None:
    """Print the error (naming `out`, the output folder the command left alone) and exit with its status."""
    click.echo(exc.render(out), err=True)
    sys.exit(exc.exit_code)


_LAZY = {
    "validate": "sophia.validate.command:validate",
    "policy": "sophia.validate.command:policy",
    "diff": "sophia.diff.command:diff",
    "import": "sophia.importer.command:import_",
    "crds": "sophia.validate.crds_command:crds",
    "release": "sophia.promote.command:release",
    "promote": "sophia.promote.command:promote",
    "rollback": "sophia.promote.command:rollback",
    "deploy-branches": "sophia.promote.command:deploy_branches",
    "pin-applications": "sophia.promote.command:pin_applications",
}
"""Commands in their own packages, imported only when run (start-up time is part of every synth)."""


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY:
            import importlib

            module, attr = _LAZY[name].split(":")
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """sophia: typed environment definitions -> plain Kubernetes YAML in dist/ -> Argo CD."""


@cli.command()
@ENVIRONMENTS
@OUT
def synth(environments: Path, out: Path) -> None:
    """Compile ENVIRONMENTS into OUT. Bad input leaves OUT untouched.

    Exit status: 0 on success, 1 when the definitions have problems (all listed),
    2 when the output folder cannot be written.
    """
    from sophia.runtime import start

    start()  # the jsii runtime starts while sophia's modules load
    from sophia.pipeline import synth as run

    try:
        result = run(environments, out, on_wait=lambda msg: click.echo(msg, err=True))
    except SophiaError as exc:
        fail(exc, out)
        return
    total = len(result.added) + len(result.modified) + len(result.removed)
    if result.changed:
        click.echo(
            f"{out}: written ({len(result.added)} added, {len(result.modified)} changed, "
            f"{len(result.removed)} removed)" if total else f"{out}: written"
        )
    else:
        click.echo(f"{out}: up to date")


@cli.command()
@ENVIRONMENTS
@OUT
def check(environments: Path, out: Path) -> None:
    """Fail when OUT is stale: re-synthesize in memory and compare with the files on disk.

    Exit status: 0 when OUT is up to date, 1 when it differs (the files are listed),
    2 when the definitions cannot be compiled or OUT is missing.
    """
    from sophia.runtime import start

    start()
    from sophia.freshness import stale_files

    try:
        diff = stale_files(environments, out)
    except SophiaError as exc:
        click.echo(exc.render(out), err=True)
        sys.exit(2)
    if not diff:
        click.echo(f"{out}: up to date with {environments}")
        return
    for status, path in diff:
        click.echo(f"{status:8} {out}/{path}")
    click.echo(f"error: {out} is stale ({len(diff)} file(s) differ); run `make synth` and commit the result", err=True)
    sys.exit(1)


@cli.command()
@ENVIRONMENTS
@click.argument("environment", required=False)
def capacity(environments: Path, environment: str | None) -> None:
    """Show worst-case requests against each node pool's capacity (GPUs, CPU, memory).

    Exit status: 0 when every pool fits, 1 when one is over-committed or the definitions have problems.
    """
    from rich.console import Console
    from rich.table import Table

    from sophia import capacity as cap
    from sophia.model.loader import load

    try:
        platform = load(environments)
    except SophiaError as exc:
        fail(exc)
        return
    if environment is not None and environment not in platform.environments:
        click.echo(f"error: no environment {environment!r} (defined: {', '.join(sorted(platform.environments))})", err=True)
        sys.exit(1)
    table = Table(title=f"capacity{': ' + environment if environment else ''} (worst case: max replicas + surge)")
    for column in ("cluster", "pool", "services", "gpus", "cpu", "memory"):
        table.add_column(column)
    for row in cap.table(platform, environment):
        table.add_row(*row.values())
    Console().print(table)
    problems = cap.check(platform)
    for problem in problems:
        click.echo(problem.render(), err=True)
    sys.exit(1 if problems else 0)


@cli.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("environments/schema"), show_default=True,
              help="Folder for the JSON Schema files.")
@click.option("--check", is_flag=True, help="Do not write; exit 1 when the files differ from the models.")
def schema(out: Path, check: bool) -> None:
    """Publish the JSON Schema of the environment format (generated from the models)."""
    from sophia.model.editor_schema import render_all

    files = render_all()
    stale = [name for name, text in files.items() if not (out / name).is_file() or (out / name).read_text() != text]
    if check:
        for name in stale:
            click.echo(f"stale: {out / name}", err=True)
        sys.exit(1 if stale else 0)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
    click.echo(f"{out}: {len(files)} schema files ({len(stale)} updated)")


def main() -> None:
    """The `sophia` script (click handles a reader that goes away, `sophia validate | head`)."""
    from sophia.runtime import short_lived

    with short_lived():
        cli(prog_name="sophia")
