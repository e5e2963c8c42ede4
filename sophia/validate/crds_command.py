"""`sophia crds fetch` and `sophia crds export`: the CRD folder, and kubeconform's schemas from it."""

from __future__ import annotations

from pathlib import Path

import click

from .catalog import CatalogError, SchemaCatalog
from .command import crd_catalog, pins_of
from .crd_files import LOCK_FILE, LockError, export, fetch, read_lock
from .documents import UsageError, read_paths


@click.group("crds")
def crds() -> None:
    """The add-ons' CustomResourceDefinitions, by the releases the Cluster files pin."""


_environments = click.option(
    "--environments", type=click.Path(path_type=Path), default=None,
    help="Environments folder whose Cluster files pin the add-on releases (default: ./environments).",
)


@crds.command("fetch")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="CRD folder to fill (<project>/<release>/).")
@click.option("--lock", "lock_file", type=click.Path(path_type=Path), default=Path(LOCK_FILE), show_default=True,
              help="Where each file comes from (a commit) and its sha256.")
@_environments
def fetch_command(out: Path, lock_file: Path, environments: Path | None) -> None:
    """Download the CRDs of every pinned release, checking each file's sha256."""
    try:
        pins = pins_of(environments)
        out.mkdir(parents=True, exist_ok=True)
        written = fetch(read_lock(lock_file), (f"{r.project}/{r.release}" for r in pins.releases), out)
    except (LockError, CatalogError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{out}: {len(written)} CRD files of {len(pins.releases)} releases, checksums verified")


@crds.command("export")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the JSON Schemas.")
@click.option("--crds", "crd_folder", type=click.Path(path_type=Path), default=None,
              help="Folder of the add-ons' CRDs (default: $SOPHIA_CRDS).")
@_environments
def export_command(paths: tuple[str, ...], out: Path, crd_folder: Path | None, environments: Path | None) -> None:
    """Write strict JSON Schemas for kubeconform: the pinned CRDs, and the built-in kinds PATHS use."""
    try:
        catalog = SchemaCatalog(crd_catalog(crd_folder, pins_of(environments)))
        written = export(out, catalog, read_paths(paths or ("dist",)).resources)
    except (CatalogError, UsageError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{out}: {len(written)} schemas ({{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json, "
               "kubernetes/{{.ResourceKind}}{{.KindSuffix}}.json)")
