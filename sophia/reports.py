"""Human-facing reports written next to the manifests, outside every folder Argo CD reads."""

from __future__ import annotations

from sophia import capacity
from sophia.spec.loader import Platform


def reports(platform: Platform) -> dict[str, str]:
    """`{<env>/SUMMARY.md: text}` for every environment."""
    out: dict[str, str] = {}
    for name, env in sorted(platform.environments.items()):
        lines = [f"# {name}", "", "| service | type | image | replicas | pool | GPU |", "|---|---|---|---|---|---|"]
        for sname, svc in sorted(env.services.items()):
            s = svc.spec
            replicas = f"{s.autoscaling.min_replicas}-{s.autoscaling.max_replicas}" if s.autoscaling else str(s.replicas)
            gpu = f"{s.gpu.count}x {'/'.join(s.gpu.models)}" if s.gpu else ""
            lines.append(f"| {sname} | {s.type} | `{svc.image}` | {replicas} | {s.placement.pool} | {gpu} |")
        out[f"{name}/SUMMARY.md"] = "\n".join(lines) + "\n"
        out[f"{name}/CAPACITY.md"] = capacity.markdown(platform, name)
    return out
