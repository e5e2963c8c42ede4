"""The click commands `sophia validate` and `sophia policy` (register with `cli.add_command`)."""

from __future__ import annotations

from pathlib import Path

import click

from sophia.forking import Channel, Forked, fork_is_useful
from sophia.values import prepare_secret_scanner

from . import documents
from .catalog import CatalogError, SchemaCatalog
from .crds import CrdCatalog
from .documents import Loaded, UsageError, find_files, read_files, read_paths
from .pins import Pins, PinsError, read_pins
from .policy import policy_loaded
from .report import Report, render_json, render_text
from .rule import PolicyContext
from .schema import validate_loaded
from .settings import CRDS_ENV, crd_folder_from_env


def pins_of(environments: Path | None = None) -> Pins:
    """The pins of the environments folder (default ./environments, when it exists; else none)."""
    if environments is None:
        environments = Path("environments")
        if not environments.is_dir():
            return Pins()
    try:
        return read_pins(environments)
    except PinsError as exc:
        raise CatalogError(str(exc)) from None


def crd_catalog(crds: Path | None = None, pins: Pins | None = None) -> CrdCatalog:
    """The CRDs of the pinned add-on releases, read from `crds` (default: `SOPHIA_CRDS`)."""
    folder = crds if crds is not None else crd_folder_from_env()
    if folder is not None and not folder.is_dir():
        raise CatalogError(f"{folder}: CRD folder not found (expected <project>/<release>/*.yaml)")
    return CrdCatalog(folder, (pins or pins_of()).releases)


def check_paths(
    paths: list[str] | tuple[str, ...],
    crds: CrdCatalog | None = None,
    *,
    policy: bool = True,
    repo_root: str | Path | None = None,
    repositories: frozenset[str] | None = None,
    parallel: bool = False,
) -> Report:
    """Schema validation and (unless `policy` is False) the policy rules, reading every file once.

    `parallel` is for the command line, which knows its process has no other thread: with the
    policy on a large set, the work is then split over two processes. A forked child parses the
    files, sends the documents, then schema-checks them; meanwhile this process loads the rules
    (importing detect-secrets takes ~0.2 s), then runs them on the documents. The report is the
    same either way; if the child dies, this process does its part. Library callers never fork.
    """
    catalog = SchemaCatalog(crds if crds is not None else crd_catalog())
    files = find_files(paths)
    context = PolicyContext(Path(repo_root) if repo_root is not None else None, repositories)
    if not policy:
        return validate_loaded(read_files(files), catalog, context)
    child = _start_child(files, catalog, context) if parallel and _worth_forking(len(files)) else None
    try:
        prepare_secret_scanner()  # imports detect-secrets (~0.2 s), beside the child parsing
        loaded = child.receive() if child is not None else None
        if not isinstance(loaded, Loaded):
            loaded = read_files(files)
        rules_report = policy_loaded(loaded, context)
        schema_report = child.receive() if child is not None else None
    finally:
        if child is not None:
            child.close()
    if not isinstance(schema_report, Report):
        schema_report = validate_loaded(loaded, catalog, context)
    return schema_report.merge(rules_report)


PARALLEL_MIN_FILES = 64
"""From this many files, parsing and the schema check run in a forked process (below, forking costs more)."""


def _worth_forking(files: int) -> bool:
    return files >= PARALLEL_MIN_FILES and fork_is_useful()


def _start_child(files: list[Path], catalog: SchemaCatalog, context: PolicyContext) -> Forked | None:
    """A forked copy that parses `files` and schema-checks them, sending each result when ready."""
    return Forked.start(lambda channel: _child_main(files, catalog, context, channel))


def _child_main(files: list[Path], catalog: SchemaCatalog, context: PolicyContext, channel: Channel) -> None:
    # Both looked up by name at call time: `documents.read_files` and this module's `validate_loaded`.
    loaded = documents.read_files(files)
    channel.send(loaded)
    channel.send(validate_loaded(loaded, catalog, context))


def _emit(report: Report, output: str) -> None:
    click.echo(render_json(report) if output == "json" else render_text(report))
    raise SystemExit(0 if report.ok else 1)


def _usage(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(2)


_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=str))
_output = click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
_repo_root = click.option(
    "--repo-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Repository root for Argo CD source paths (default: the nearest folder above holding .git).",
)


_crds = click.option(
    "--crds",
    type=click.Path(path_type=Path),
    default=None,
    help=f"Folder of the add-ons' CRDs, <project>/<release>/*.yaml (default: ${CRDS_ENV}).",
)
_environments = click.option(
    "--environments",
    type=click.Path(path_type=Path),
    default=None,
    help="Environments folder whose Cluster files pin the add-on releases (default: ./environments).",
)


@click.command("validate")
@_paths
@_crds
@_environments
@_output
@click.option("--no-policy", is_flag=True, help="Only check schemas; skip the policy rules.")
@_repo_root
def validate(
    paths: tuple[str, ...], crds: Path | None, environments: Path | None, output: str, no_policy: bool,
    repo_root: Path | None,
) -> None:
    """Check every manifest under PATHS (default: dist) as the cluster's API server would (Kubernetes
    schemas, the CRDs of the pinned add-on releases, CEL rules), then the policy rules."""
    try:
        pins = pins_of(environments)
        report = check_paths(paths or ("dist",), crd_catalog(crds, pins), policy=not no_policy, repo_root=repo_root,
                             repositories=pins.repositories, parallel=True)
    except (UsageError, CatalogError) as exc:
        _usage(str(exc))
        return
    _emit(report, output)


@click.command("policy")
@_paths
@_output
@_repo_root
def policy(paths: tuple[str, ...], output: str, repo_root: Path | None) -> None:
    """Run only the policy rules over every manifest under PATHS (default: dist)."""
    try:
        loaded = read_paths(paths or ("dist",))
    except UsageError as exc:
        _usage(str(exc))
        return
    _emit(policy_loaded(loaded, PolicyContext(repo_root)), output)
