"""The extension point for people who write Python: functions that add cdk8s constructs to an
Argo CD application's chart.

An extension is a module of the `extensions` package at the root of this repository (installed
with sophia; another package can be named with `SOPHIA_EXTENSIONS`). It defines either or both of

    def extend_service(chart: ApplicationChart, env: Env, service: Service) -> None
    def extend_application(chart: ApplicationChart, env: Env, application: str) -> None

`extend_service` is called once per service of every environment, with the chart of the service's
application; `extend_application` once per application folder. Whatever cdk8s constructs they add
under `chart` -- an `ApiObject`, cdk8s-plus constructs, `Include`, `Helm`, classes `cdk8s import`
made from the pinned CRDs (`extensions/imports/`) -- are written into that application's folder of
dist/ and checked by `sophia validate` like sophia's own objects. Modules run in name order, so
the output stays a pure function of the input. A module that fails to import, or an extension that
raises, is a compile error naming it; dist/ is then left as it was.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sophia.errors import CompileError, Problem

if TYPE_CHECKING:
    from sophia.constructs.application_chart import ApplicationChart
    from sophia.model.platform import Env, Service

PACKAGE_ENV = "SOPHIA_EXTENSIONS"
DEFAULT_PACKAGE = "extensions"

ServiceExtension = Callable[["ApplicationChart", "Env", "Service"], None]
ApplicationExtension = Callable[["ApplicationChart", "Env", str], None]


@dataclass(frozen=True)
class Extension:
    """One extension module and the functions it defines."""

    name: str
    file: str
    extend_service: ServiceExtension | None = None
    extend_application: ApplicationExtension | None = None


def load_extensions(package: str | None = None) -> tuple[Extension, ...]:
    """The extension modules of `package` (default: `SOPHIA_EXTENSIONS`, else `extensions`), by name.

    No such package means no extension. Modules whose name starts with `_`, and `imports` (the code
    `cdk8s import` generates), are not extensions.
    """
    name = package or os.environ.get(PACKAGE_ENV, "").strip() or DEFAULT_PACKAGE
    try:
        root = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return ()
        raise CompileError([Problem(name, None, "", f"the extensions package cannot be imported: {exc}")]) from None
    found: list[Extension] = []
    problems: list[Problem] = []
    for info in sorted(pkgutil.iter_modules(getattr(root, "__path__", [])), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "imports":
            continue
        try:
            module = importlib.import_module(f"{name}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - any failure of user code becomes a located problem
            problems.append(Problem(f"{name}/{info.name}.py", _line(exc), "", f"cannot import: {type(exc).__name__}: {exc}"))
            continue
        service = getattr(module, "extend_service", None)
        application = getattr(module, "extend_application", None)
        if callable(service) or callable(application):
            found.append(Extension(f"{name}.{info.name}", str(getattr(module, "__file__", info.name)),
                                   service if callable(service) else None, application if callable(application) else None))
    if problems:
        raise CompileError(problems)
    return tuple(found)


def run_service_extensions(extensions: tuple[Extension, ...], chart: ApplicationChart, env: Env, service: Service,
                           problems: list[Problem]) -> None:
    """Every extension's `extend_service` for one service; each failure is a located problem."""
    for extension in extensions:
        if extension.extend_service is not None:
            _call(extension, chart, "extend_service", f"service {service.name!r} of {env.name}", problems,
                  partial(extension.extend_service, chart, env, service))


def run_application_extensions(extensions: tuple[Extension, ...], chart: ApplicationChart, env: Env, application: str,
                               problems: list[Problem]) -> None:
    """Every extension's `extend_application` for one application folder."""
    for extension in extensions:
        if extension.extend_application is not None:
            _call(extension, chart, "extend_application", f"application {application!r} of {env.name}", problems,
                  partial(extension.extend_application, chart, env, application))


def _call(extension: Extension, chart: ApplicationChart, function: str, what: str, problems: list[Problem],
          call: Callable[[], None]) -> None:
    chart.extensions.setdefault(extension.name, extension.file)
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - user code: reported with where it failed, never a traceback
        problems.append(Problem(extension.file, _line(exc, extension.file), f"{extension.name}.{function}",
                                f"failed for {what}: {type(exc).__name__}: {exc}"))


def _line(exc: BaseException, file: str | None = None) -> int | None:
    """The line of `file` (or of the innermost frame) where `exc` was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError):
        return exc.lineno
    mine = [f for f in frames if file is None or f.filename == file]
    return mine[-1].lineno if mine else None
