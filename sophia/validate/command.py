"""The click commands `sophia validate` and `sophia policy` (register with `cli.add_command`)."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import click

from .catalog import CatalogError, SchemaCatalog
from .documents import Loaded, UsageError, find_files, read_files, read_paths
from .policy import PolicyContext, all_rules, policy_loaded
from .report import Report, make_report, render_json, render_text
from .schema import validate_loaded
from .settings import CRD_SCHEMAS_ENV, crd_location_from_env


def check_paths(
    paths: list[str] | tuple[str, ...],
    schema_location: str | Path | None = None,
    *,
    policy: bool = True,
    repo_root: str | Path | None = None,
) -> Report:
    """Schema validation and (unless `policy` is False) the policy rules, reading every file once."""
    location = Path(schema_location) if schema_location is not None else crd_location_from_env()
    catalog = SchemaCatalog(location)
    files = find_files(paths)

    def warm() -> None:
        all_rules()  # imports detect-secrets
        from .rules_values import prepare

        prepare()
        for api_version, kind in COMMON_KINDS:
            catalog.lookup(api_version, kind)

    loaded = _read_while(files, warm) if policy else read_files(files)
    report = validate_loaded(loaded, catalog)
    if policy:
        context = PolicyContext(Path(repo_root) if repo_root is not None else None)
        report = report.merge(policy_loaded(loaded, context))
    return make_report(report.resources, report.findings)


PARALLEL_MIN_FILES = 64
"""From this many files, parsing runs in a forked process while this one loads the rules."""

COMMON_KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "ServiceAccount"),
                ("networking.k8s.io/v1", "NetworkPolicy"), ("policy/v1", "PodDisruptionBudget"))
"""Schemas compiled while the manifests are parsed (the others on first use)."""


def _read_while(files: list[Path], warm: Callable[[], object]) -> Loaded:
    """Read `files` while `warm` runs (the policy rules import detect-secrets, ~0.2 s).

    On a machine with a second core and fork(), the YAML is parsed in a child process and the
    documents come back pickled; otherwise one after the other. The result is the same.
    """
    if len(files) < PARALLEL_MIN_FILES or (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        warm()
        return read_files(files)
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork")) as pool:
            future = pool.submit(read_files, files)
            warm()
            return future.result()
    except (BrokenProcessPool, OSError, pickle.PicklingError):
        # The child could not start or died (out of memory, a crash in the YAML library): the
        # same work in this process gives the same report, and any real error surfaces here.
        warm()
        return read_files(files)


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


@click.command("validate")
@_paths
@click.option(
    "--schema-location",
    type=click.Path(path_type=Path),
    default=None,
    help=f"CRD schema catalog folder <group>/<kind>_<version>.json (default: ${CRD_SCHEMAS_ENV}).",
)
@_output
@click.option("--no-policy", is_flag=True, help="Only check schemas; skip the policy rules.")
@_repo_root
def validate(
    paths: tuple[str, ...], schema_location: Path | None, output: str, no_policy: bool, repo_root: Path | None
) -> None:
    """Check every manifest under PATHS (default: dist) against strict schemas and the policy rules."""
    try:
        report = check_paths(paths or ("dist",), schema_location, policy=not no_policy, repo_root=repo_root)
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
