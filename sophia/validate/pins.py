"""What `sophia validate` takes from an environments folder: the add-on releases the clusters run,
and the git repositories Argo CD reads this project's output from.

Custom resources are checked against the CRDs of exactly these releases; Application source
paths are checked in this repository only when the Application reads one of these repositories.
Only the Cluster and Environment files are read (with the hardened reader and their models); the
rest of the folder is `sophia synth`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from sophia.model.models import API_VERSION, Cluster, Environment
from sophia.model.yamlsafe import YamlProblem, load_documents, load_text

from .crds import Release


class PinsError(Exception):
    """The Cluster files cannot be read (exit status 2: fix them with `sophia synth`'s help)."""


@dataclass(frozen=True)
class Pins:
    releases: tuple[Release, ...] = ()
    """Every add-on release with CRDs that a Cluster file pins, sorted."""
    repositories: frozenset[str] | None = None
    """The repositories of the clusters' and environments' `source`; None when not known."""


def read_pins(environments: Path) -> Pins:
    """The pins of the Cluster and Environment files under `environments`."""
    if not environments.is_dir():
        raise PinsError(f"{environments}: no environments folder, so no add-on releases are known "
                        "(pass --environments DIR)")
    releases: set[Release] = set()
    repositories: set[str] = set()
    for path in sorted(environments.rglob("*.y*ml")):
        try:
            text = load_text(path.read_bytes())
            documents = load_documents(text)
        except (OSError, YamlProblem):
            continue  # not ours to report: `sophia synth` words it
        for document in documents:
            data = document.data
            if not isinstance(data, dict) or data.get("apiVersion") != API_VERSION:
                continue
            kind = data.get("kind")
            model: type[Cluster] | type[Environment]
            if kind == "Cluster":
                model = Cluster
            elif kind == "Environment":
                model = Environment
            else:
                continue
            try:
                definition = model.model_validate(data)
            except ValidationError as exc:
                raise PinsError(f"{path}: not a valid {kind} ({exc.error_count()} problems; `sophia synth` lists them)") from None
            source = definition.spec.source
            if source is not None:
                repositories.add(source.repo_url)
            if not isinstance(definition, Cluster):
                continue
            for name, addon in definition.spec.addons.items():
                if addon.crds is not None:
                    releases.add(Release(addon=name, project=addon.crds.project or name,
                                         release=addon.crds.release or addon.release, groups=tuple(addon.crds.groups)))
    return Pins(tuple(sorted(releases, key=lambda r: (r.project, r.release, r.addon))), frozenset(repositories))
