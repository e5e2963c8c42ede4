"""Capacity at compile time: the worst case of every pool must fit the pool.

Environments that share a cluster share its machines, so the check adds up every environment
placed on a cluster. For each pool the worst case is every workload at its maximum replicas plus
its rolling-update surge (GPU workloads replace instead of surging, see `web_service`), a node
agent's pod on every node of its pool, one pod of each job and cronjob. GPUs are whole: a pod
cannot take more GPUs than one node of its pool has. A pod requests what Kubernetes reserves for
it (`pod_request`): its containers and sidecars together, or its largest init container if that
is more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sophia.errors import Problem
from sophia.model.loader import Env, Platform, Service
from sophia.model.models import ServiceSpec
from sophia.values import memory_bytes, millicores

GATEWAY_PROXY = (50, 32 * 2**20)
"""(millicores, bytes) the LLM gateway's proxy container requests."""


def gib(n: int) -> str:
    return f"{n / 2**30:.1f}Gi"


def cores(m: int) -> str:
    return f"{m / 1000:g}"


@dataclass
class Demand:
    """The worst case of one workload on its pool."""

    environment: str
    service: str
    pods: int
    gpus: int
    cpu_m: int
    memory: int


@dataclass
class PoolUse:
    cluster: str
    pool: str
    gpus: int
    cpu_m: int
    memory: int
    demands: list[Demand] = field(default_factory=list)

    @property
    def used_gpus(self) -> int:
        return sum(d.gpus for d in self.demands)

    @property
    def used_cpu_m(self) -> int:
        return sum(d.cpu_m for d in self.demands)

    @property
    def used_memory(self) -> int:
        return sum(d.memory for d in self.demands)


def _worst_pods(svc: Service, pool_nodes: int) -> int:
    s = svc.spec
    most = s.autoscaling.max_replicas if s.autoscaling else s.replicas
    if s.type in ("cronjob", "job"):
        return 1  # a Job runs one pod at a time; a CronJob's concurrencyPolicy Forbid: one run at a time
    if s.type == "daemonset":
        return pool_nodes  # one pod on every node; an update replaces, never surges
    if s.type in ("web", "worker") and s.gpu is None:
        return most + math.ceil(most * 0.25)  # maxSurge 25%
    return most  # StatefulSets and GPU Deployments replace, never surge


def pod_request(spec: ServiceSpec) -> tuple[int, int]:
    """(millicores, bytes) Kubernetes reserves for one pod of a service, each resource on its own: the main
    container and the sidecars together, or the largest init container if that is more (init containers run one
    at a time, to completion, before the sidecars start)."""
    running = [spec.resources, *(c.resources for c in spec.sidecars)]
    cpu = sum(millicores(r.requests.cpu) for r in running)
    memory = sum(memory_bytes(r.requests.memory) for r in running)
    for init in spec.init_containers:
        cpu = max(cpu, millicores(init.resources.requests.cpu))
        memory = max(memory, memory_bytes(init.resources.requests.memory))
    return cpu, memory


def demands(env: Env) -> list[tuple[str, Demand]]:
    """(pool, demand) of every workload of one environment."""
    out: list[tuple[str, Demand]] = []
    for name, svc in sorted(env.services.items()):
        pods = _worst_pods(svc, env.cluster.spec.node_pools[svc.spec.placement.pool].nodes)
        cpu, memory = pod_request(svc.spec)
        gpus = svc.spec.gpu.count if svc.spec.gpu else 0
        out.append((svc.spec.placement.pool, Demand(env.name, name, pods, pods * gpus, pods * cpu, pods * memory)))
    gateway = env.spec.llm_gateway
    if gateway is not None:
        most = gateway.autoscaling.max_replicas
        pods = most + math.ceil(most * 0.25)
        req = gateway.resources.requests
        cpu = millicores(req.cpu) + GATEWAY_PROXY[0]
        mem = memory_bytes(req.memory) + GATEWAY_PROXY[1]
        out.append((gateway.placement.pool, Demand(env.name, "llm-gateway", pods, 0, pods * cpu, pods * mem)))
    return out


def usage(platform: Platform) -> dict[tuple[str, str], PoolUse]:
    """Worst-case use of every pool of every cluster, across the environments sharing it."""
    pools: dict[tuple[str, str], PoolUse] = {}
    for env in sorted(platform.environments.values(), key=lambda e: e.name):
        cluster = env.cluster
        for pname, pool in cluster.spec.node_pools.items():
            key = (cluster.metadata.name, pname)
            if key not in pools:
                pools[key] = PoolUse(
                    cluster.metadata.name, pname,
                    gpus=(pool.gpu.count * pool.nodes) if pool.gpu else 0,
                    cpu_m=millicores(pool.capacity.cpu) * pool.nodes,
                    memory=memory_bytes(pool.capacity.memory) * pool.nodes,
                )
        for pname, demand in demands(env):
            pools[(cluster.metadata.name, pname)].demands.append(demand)
    return pools


def check(platform: Platform) -> list[Problem]:
    """An error per over-committed pool, naming the pool, the services and the numbers, located at what
    sizes the largest demand there (`_sizing_field`)."""
    problems: list[Problem] = []
    for env in platform.environments.values():
        for name, svc in sorted(env.services.items()):
            pool = env.cluster.spec.node_pools[svc.spec.placement.pool]
            if svc.spec.gpu and pool.gpu and svc.spec.gpu.count > pool.gpu.count:
                file, line = env.locate(name, "gpu", "count")
                problems.append(Problem(file, line, f"spec.services.{name}.gpu.count",
                                        f"asks for {svc.spec.gpu.count} GPUs per pod but a node of pool "
                                        f"{svc.spec.placement.pool!r} has {pool.gpu.count}",
                                        "a pod's GPUs must all be on one node"))
    for use in usage(platform).values():
        over: list[str] = []
        if use.used_gpus > use.gpus:
            over.append(f"GPUs {use.used_gpus} > {use.gpus}")
        if use.used_cpu_m > use.cpu_m:
            over.append(f"CPU {cores(use.used_cpu_m)} > {cores(use.cpu_m)} cores")
        if use.used_memory > use.memory:
            over.append(f"memory {gib(use.used_memory)} > {gib(use.memory)}")
        if not over:
            continue
        resource = "GPUs" if use.used_gpus > use.gpus else "CPU" if use.used_cpu_m > use.cpu_m else "memory"
        ranked = sorted(use.demands, key=lambda d: (-_share(d, resource), -d.gpus, -d.cpu_m, d.environment, d.service))
        who = ", ".join(
            f"{d.environment}/{d.service} ({d.pods} pods"
            + (f", {d.gpus} GPU" if d.gpus else "")
            + f", {cores(d.cpu_m)} CPU, {gib(d.memory)})"
            for d in ranked
        )
        file, line, path = _sizing_field(platform.environments[ranked[0].environment], ranked[0], resource)
        problems.append(Problem(
            file, line, path,
            f"pool {use.pool!r} of cluster {use.cluster!r} is over-committed in the worst case: {'; '.join(over)}; "
            f"placed there, largest first: {who}",
            "lower replicas or maxReplicas, move services to another pool, or add nodes to the pool",
        ))
    return problems


def _share(d: Demand, resource: str) -> int:
    return {"GPUs": d.gpus, "CPU": d.cpu_m, "memory": d.memory}[resource]


def _sizing_field(env: Env, d: Demand, resource: str) -> tuple[str, int, str]:
    """(file, line, field path) of what sizes the largest demand on an over-committed pool.

    That is the pod count (autoscaling.maxReplicas, else replicas) of a workload that runs more than
    one pod, else the one pod's request of the resource that overflows (GPUs, CPU or memory).
    """
    gateway = env.spec.llm_gateway
    if d.service == "llm-gateway" and gateway is not None:
        file, line = env.locate_spec("llmGateway", "autoscaling", "maxReplicas")
        return file, line, "spec.llmGateway.autoscaling.maxReplicas"
    spec = env.services[d.service].spec
    field: tuple[str, ...]
    if d.pods > 1 and spec.type != "daemonset":  # a node agent's pods are the pool's nodes
        field = ("autoscaling", "maxReplicas") if spec.autoscaling else ("replicas",)
    else:
        field = {"GPUs": ("gpu", "count"), "CPU": ("resources", "requests", "cpu"), "memory": ("resources", "requests", "memory")}[resource]
    file, line = env.locate(d.service, *field)
    return file, line, ".".join(("spec", "services", d.service, *field))


def table(platform: Platform, environment: str | None = None) -> list[dict[str, str]]:
    """Rows of the capacity table: requests vs capacity per pool (optionally one environment's share)."""
    rows: list[dict[str, str]] = []
    for (cluster, pname), use in sorted(usage(platform).items()):
        mine = [d for d in use.demands if environment is None or d.environment == environment]
        def share(mine_total: str, all_total: str) -> str:
            return mine_total if environment is None else f"{mine_total} (all envs {all_total})"

        rows.append({
            "cluster": cluster,
            "pool": pname,
            "services": str(len(mine)),
            "gpus": f"{share(str(sum(d.gpus for d in mine)), str(use.used_gpus))} / {use.gpus}",
            "cpu": f"{share(cores(sum(d.cpu_m for d in mine)), cores(use.used_cpu_m))} / {cores(use.cpu_m)}",
            "memory": f"{share(gib(sum(d.memory for d in mine)), gib(use.used_memory))} / {gib(use.memory)}",
        })
    return rows


def markdown(platform: Platform, environment: str) -> str:
    lines = [
        f"# Capacity: {environment}",
        "",
        "Worst case (max replicas plus rolling-update surge) of the requests of this environment, "
        "with all environments sharing the cluster in brackets, against the pool's allocatable capacity.",
        "",
        "| cluster | pool | services | GPUs | CPU (cores) | memory |",
        "|---|---|---|---|---|---|",
    ]
    for r in table(platform, environment):
        lines.append(f"| {r['cluster']} | {r['pool']} | {r['services']} | {r['gpus']} | {r['cpu']} | {r['memory']} |")
    return "\n".join(lines) + "\n"

