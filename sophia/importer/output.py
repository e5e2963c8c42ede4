"""Writing: an `ImportResult` -> the files of a complete environments folder, plus the reports.

`render` is pure (`{relative path: text}`); `write` is the only function that touches the disk.
Everything the compose files cannot tell (node pools, the cluster, the Argo CD source) gets a
clearly marked default that compiles, with a comment saying it must be set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sophia.importer.mapped import APPLICATION, GPU_POOL, POOL, UNPINNED_TAG
from sophia.importer.mapping import ImportResult
from sophia.model.models import API_VERSION

ENVIRONMENT = "imported"
RELEASE = "imported"
CLUSTER = "imported-cluster"
REPO_URL = "https://example.invalid/set-me.git"
ESC_ORGANIZATION = "set-me"


def _dump(data: Any) -> str:
    # Without a stream, safe_dump returns the YAML text; its stub types the result as Any.
    text: str = yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=120, allow_unicode=True)
    return text


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}


def render(result: ImportResult) -> dict[str, str]:
    """Every file of the imported environments folder, by relative path."""
    catalog = (
        "# Imported by `sophia import compose`: review import-report.md before using it.\n"
        f"# Every entry compiles. Marked defaults: tag {UNPINNED_TAG} in releases/ (pin it there), repository set-me/...\n"
        + _dump(_doc("ServiceCatalog", "imported", {"services": result.services}))
    )
    release = _release(result)
    pools: dict[str, Any] = {
        POOL: {
            "description": "SET ME: placeholder pool with generous capacity; compose files name no machines",
            "nodes": 8,
            "labels": {"sophia.ai/pool": POOL},
            "capacity": {"cpu": "128", "memory": "1024Gi"},
            "generalWorkloads": True,
        },
        GPU_POOL: {
            "description": "SET ME: placeholder GPU pool; compose files name no GPU model",
            "nodes": 2,
            "labels": {"sophia.ai/pool": GPU_POOL},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            "capacity": {"cpu": "64", "memory": "512Gi"},
            "gpu": {"model": "GH200", "count": 8, "memoryGiB": 96},
            "generalWorkloads": False,
        },
    }
    cluster = (
        "# SET ME: placeholder cluster. Replace the pools with the real machines (by label, never by IP).\n"
        + _dump(_doc("Cluster", CLUSTER, {"kubernetesVersion": "1.33", "nodePools": pools}))
    )
    env_spec: dict[str, Any] = {
        "release": RELEASE,
        "cluster": CLUSTER,
        "source": {"repoURL": REPO_URL, "targetRevision": "main", "path": "dist"},
        "namespaces": {APPLICATION: APPLICATION},
        "esc": {"organization": ESC_ORGANIZATION, "environment": ENVIRONMENT},
    }
    if result.llm_providers:
        targets = [{"provider": p} for p in result.llm_providers]
        env_spec["llmGateway"] = {
            "application": APPLICATION,
            "placement": {"pool": POOL},
            "routing": {"strategy": "single" if len(targets) == 1 else "fallback", "targets": targets},
        }
    environment = (
        f"# SET ME: source.repoURL ({REPO_URL}) is a placeholder for the git repository Argo CD syncs,\n"
        f"# esc.organization ({ESC_ORGANIZATION}) a placeholder for the Pulumi organization holding the secrets,\n"
        "# and llmGateway (when present) routes to the providers whose keys the compose files passed around.\n"
        + _dump(_doc("Environment", ENVIRONMENT, env_spec))
    )
    return {
        "catalog.yaml": catalog,
        "clusters/imported.yaml": cluster,
        f"{ENVIRONMENT}.yaml": environment,
        "import-report.json": result.report.to_json(),
        "import-report.md": result.report.to_markdown(),
        "releases/imported.yaml": release,
    }


def _release(result: ImportResult) -> str:
    """The release file, with a `# SET ME` comment on every unpinned tag saying what the compose files had."""
    head = (
        f"# Image versions: what gets promoted between environments. `{UNPINNED_TAG}` is a clearly marked\n"
        "# default for a version the compose files did not pin (latest, no tag, an unset ${IMAGE_TAG}):\n"
        "# set a real version before deploying.\n"
    )
    text = _dump(_doc("Release", RELEASE, {"images": {k: {"tag": v} for k, v in result.tags.items()}}))
    out: list[str] = []
    current = None
    for line in text.splitlines():
        if line.startswith("    ") and not line.startswith("     ") and line.endswith(":"):
            current = line.strip()[:-1]
        if current and line.strip() == f"tag: {UNPINNED_TAG}" and current in result.unpinned:
            line += "  # SET ME: was " + "; ".join(result.unpinned[current])
        out.append(line)
    return head + "\n".join(out) + "\n"


def write(files: dict[str, str], out: Path) -> None:
    """Write `files` under `out` (created when missing); other files there are left alone."""
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
