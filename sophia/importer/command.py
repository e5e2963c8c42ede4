"""`sophia import compose FILE... --out DIR`: the click commands of the importer."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sophia.importer.compose import ComposeError, ComposeFile, read_compose
from sophia.importer.mapping import REGISTRY, import_files
from sophia.importer.output import render, write


def display_name(path: Path, base: Path | None) -> str:
    """How a file is named in the report: relative to `base` when it lies under it."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def read_inventory(path: Path) -> dict[str, int]:
    """Definitions per file of a Markdown inventory table whose first column is the file (`| file | service |...`)."""
    counts: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|") or cells[0] in ("file", "") or set(cells[0]) <= {"-", ":"}:
            continue
        counts[cells[0]] = counts.get(cells[0], 0) + 1
    return counts


def run_import(
    paths: list[Path], out: Path, base: Path | None = None, inventory: Path | None = None, registry: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """Read, map and write; returns the files written and the files that could not be read."""
    files: list[ComposeFile] = []
    errors: list[str] = []
    for p in paths:
        try:
            files.append(read_compose(p, display_name(p, base)))
        except ComposeError as exc:
            errors.append(str(exc))
    if errors:
        return {}, errors
    result = import_files(files, registry)
    if inventory is not None:
        result.report.inventory = read_inventory(inventory)
    rendered = render(result)
    write(rendered, out)
    return rendered, []


def _check_registry(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().rstrip("/").lower()
    if not REGISTRY.fullmatch(value):
        raise click.BadParameter(f"{value!r} is not a registry path like ghcr.io/acme or scoobyjava15")
    return value


@click.group("import")
def import_() -> None:
    """Import existing deployment files into an environments folder."""


@import_.command("compose")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Environments folder to write.")
@click.option("--base", "base", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Name files in the report relative to this folder.")
@click.option("--inventory", "inventory", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Markdown inventory (first column: file) to reconcile the definition count with.")
@click.option("--registry", "registry", default=None, callback=_check_registry,
              help="Registry (and namespace) CI pushes images built from source to, e.g. ghcr.io/acme; "
                   "default: the one registry the compose files parameterise their own images with.")
def compose(files: tuple[Path, ...], out: Path, base: Path | None, inventory: Path | None, registry: str | None) -> None:
    """Read docker-compose / swarm stack FILES and write a compilable environments folder to OUT.

    Also writes OUT/import-report.json and OUT/import-report.md. Exit status 1 when a file cannot be read.
    """
    written, errors = run_import(list(files), out, base, inventory, registry)
    if errors:
        for e in errors:
            click.echo(e, err=True)
        sys.exit(1)
    import json

    data = json.loads(written["import-report.json"])
    click.echo(
        f"{out}: {data['imported']} of {data['service_definitions']} definitions imported without a hand edit "
        f"({data['imported_strict']} under the strict definition), "
        f"{data['services_written']} services written, {len(data['flagged'])} flags (see {out / 'import-report.md'})"
    )
