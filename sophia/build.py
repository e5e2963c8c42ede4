"""Building: a loaded `Platform` -> a construct tree. No disk, no clock, no environment variables.

For each environment this turns every service into the props of its workload construct
(addresses of dependencies, placement on its node pool, GPU settings, relaxations), checks what
can only be checked across services (cycles, placement, capacity), and adds the Namespaces,
NetworkPolicies and Argo CD objects. Every problem is collected and raised as one `CompileError`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from constructs import Construct

from sophia import capacity, graph
from sophia.cluster import build_cluster, prometheus_peer
from sophia.constructs._base import SophiaConstruct, selector_pairs
from sophia.constructs._workload_props import RELAXED_RULES, SecretItem, WorkloadProps
from sophia.constructs.acme_issuer import AcmeIssuer, AcmeIssuerProps
from sophia.constructs.application_chart import ApplicationChart
from sophia.constructs.argocd_application import ArgoApplication, ArgoApplicationProps
from sophia.constructs.argocd_project import ArgoProject, ArgoProjectProps
from sophia.constructs.esc_secret_store import EscSecretStore, EscSecretStoreProps
from sophia.constructs.exposure import Exposure, ExposureProps
from sophia.constructs.hand_written import HandWrittenManifests
from sophia.constructs.llm_gateway import NAME as GATEWAY
from sophia.constructs.llm_gateway import PROXY_PORT, LlmGateway, LlmGatewayProps
from sophia.constructs.namespace import Namespace, NamespaceProps, pod_security_for
from sophia.constructs.network_access import NetworkAccess, NetworkAccessProps, Peer
from sophia.constructs.node_agent import NodeAgent
from sophia.constructs.one_off_job import OneOffJob
from sophia.constructs.scheduled_job import ScheduledJob
from sophia.constructs.service_secrets import ServiceSecrets, ServiceSecretsProps
from sophia.constructs.stateful_service import StatefulService
from sophia.constructs.web_service import WebService
from sophia.constructs.worker import Worker
from sophia.errors import CompileError, Problem
from sophia.extensions import Extension, run_application_extensions, run_service_extensions
from sophia.model.loader import Env, Platform, Service
from sophia.model.models import NodePool

ARGOCD_FOLDER = "argocd"
PLATFORM_FOLDER = "platform"
GPU_TAINT_KEY = "nvidia.com/gpu"
TRAEFIK = Peer(
    namespace="kube-system",
    labels=(("app.kubernetes.io/name", "traefik"),),
    ports=(),
)

_WORKLOADS: dict[str, type[WebService | Worker | StatefulService | ScheduledJob | NodeAgent | OneOffJob]] = {
    "web": WebService,
    "worker": Worker,
    "stateful": StatefulService,
    "cronjob": ScheduledJob,
    "daemonset": NodeAgent,
    "job": OneOffJob,
}
"""The construct of each workload type; each takes a `WorkloadProps`."""


class PlatformTree(SophiaConstruct):
    """The root of everything sophia emits for one environments folder."""


def build(platform: Platform, scope: Construct, extensions: tuple[Extension, ...] = ()) -> PlatformTree:
    """Build the whole platform under `scope` (a cdk8s App); raise `CompileError` on problems.

    `extensions` (`sophia.extensions`) add cdk8s constructs to each application's chart.
    """
    problems: list[Problem] = []
    for env in platform.environments.values():
        problems.extend(check_environment(env))
    if not problems:
        problems.extend(capacity.check(platform))
    if problems:
        raise CompileError(problems)
    root = PlatformTree(scope, "sophia")
    clusters = {env.cluster.metadata.name: env.cluster for env in platform.environments.values()}
    for name in sorted(clusters):
        build_cluster(root, clusters[name])
    for name in sorted(platform.environments):
        _environment(root, platform.environments[name], extensions, problems)
    if problems:
        raise CompileError(problems)
    return root


def check_environment(env: Env) -> list[Problem]:
    """What can only be checked across services: cycles and placement."""
    problems = graph.find_cycles(env)
    pools = env.cluster.spec.node_pools
    for name, svc in sorted(env.services.items()):
        pool_name = svc.spec.placement.pool
        pool = pools[pool_name]
        gpu_tainted = any(t.key == GPU_TAINT_KEY for t in pool.taints)
        if svc.spec.gpu is None:
            if (gpu_tainted or not pool.general_workloads) and svc.spec.type != "daemonset":  # a node agent serves its pool
                file, line = env.locate(name, "placement", "pool")
                problems.append(Problem(
                    file, line, f"spec.services.{name}.placement.pool",
                    f"node pool {pool_name!r} is reserved for GPU workloads and {name!r} asks for no GPU",
                    "place it on a pool with generalWorkloads: true",
                ))
        elif pool.gpu is None or pool.gpu.model not in svc.spec.gpu.models:
            file, line = env.locate(name, "gpu", "models")
            have = pool.gpu.model if pool.gpu else "no GPU"
            problems.append(Problem(
                file, line, f"spec.services.{name}.gpu.models",
                f"asks for {'/'.join(svc.spec.gpu.models)} but node pool {pool_name!r} has {have}",
                "place it on a pool with one of those models, or accept the pool's model",
            ))
    return problems


def _waived(env: Env, svc: Service) -> set[str]:
    """The policy rules a service waives: its own waivers, and those its named security exception implies."""
    relaxed = {r for e in env.spec.exceptions if e.service == svc.name for r in e.relax}
    return {str(rule) for rule in svc.spec.waivers} | {RELAXED_RULES[r] for r in relaxed if r in RELAXED_RULES}


def _workload_props(env: Env, svc: Service, outgoing: list[graph.Edge]) -> WorkloadProps:
    pool = env.cluster.spec.node_pools[svc.spec.placement.pool]
    env_values: dict[str, str] = {"ENVIRONMENT": env.name}
    env_values.update(svc.spec.env)
    for e in outgoing:
        env_values[e.env] = e.value
    gateway = env.spec.llm_gateway
    if svc.spec.calls_llm and gateway is not None:
        url = f"http://{GATEWAY}.{env.spec.namespaces[gateway.application]}.{graph.CLUSTER_DOMAIN}:{PROXY_PORT}/v1"
        env_values["LLM_GATEWAY_URL"] = url
        env_values["OPENAI_BASE_URL"] = url
        env_values["LLM_ROUTING_STRATEGY"] = gateway.routing.strategy
        env_values["LLM_ROUTING_TARGETS"] = ",".join(t.provider + (f":{t.model}" if t.model else "") for t in gateway.routing.targets)
    tolerations = _tolerations(svc, pool)
    runtime_class = "nvidia" if svc.spec.gpu is not None else None
    relax: tuple[str, ...] = ()
    reason = ""
    for exc in env.spec.exceptions:
        if exc.service == svc.name:
            relax = tuple(sorted(set(exc.relax)))
            reason = exc.reason
    secrets = tuple(SecretItem(name=k, mount_path=v.mount_path) for k, v in sorted(svc.spec.secrets.items()))
    return WorkloadProps(
        name=svc.name,
        namespace=svc.namespace,
        environment=env.name,
        image=svc.image,
        version=svc.version,
        spec=svc.spec,
        env=tuple(sorted(env_values.items())),
        secret_name=f"{svc.name}-secrets" if secrets else None,
        secrets=secrets,
        node_labels=tuple(sorted(pool.labels.items())),
        tolerations=tolerations,
        runtime_class=runtime_class,
        relax=relax,
        exception_reason=reason,
        local_dependencies=_local_dependencies(env, svc, outgoing),
    )


def _local_dependencies(env: Env, svc: Service, outgoing: list[graph.Edge]) -> tuple[str, ...]:
    """The services of its own application a service depends on."""
    app = svc.spec.application
    return tuple(sorted({e.target for e in outgoing if env.services[e.target].spec.application == app}))


def _tolerations(svc: Service, pool: NodePool) -> tuple[tuple[str, str, str], ...]:
    """(key, value, effect) of the pool's taints the pods tolerate: every one for a node agent (one pod on every
    node of the pool), the GPU taint for a pod that asks for GPUs, else none."""
    if svc.spec.type == "daemonset":
        return tuple((t.key, t.value, t.effect) for t in pool.taints)
    if svc.spec.gpu is not None:
        return tuple((t.key, t.value, t.effect) for t in pool.taints if t.key == GPU_TAINT_KEY)
    return ()


def _network_props(env: Env, props: WorkloadProps, out_edges: list[graph.Edge], in_edges: list[graph.Edge]) -> NetworkAccessProps:
    svc = env.services[props.name]

    def peer(other: str, ports: list[tuple[str, int]]) -> Peer:
        o = env.services[other]
        labels = selector_pairs(name=other, instance=f"{other}-{env.name}")
        return Peer(namespace=o.namespace, labels=labels, ports=tuple(sorted(set(ports))))

    incoming: dict[str, list[tuple[str, int]]] = defaultdict(list)
    outgoing: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for e in in_edges:
        incoming[e.source].append((svc.spec.ports[e.port_name].protocol, e.port))
    for e in out_edges:
        target = env.services[e.target]
        outgoing[e.target].append((target.spec.ports[e.port_name].protocol, e.port))
    egress = [peer(n, outgoing[n]) for n in sorted(outgoing)]
    gateway = env.spec.llm_gateway
    if svc.spec.calls_llm and gateway is not None:
        egress.append(Peer(namespace=env.spec.namespaces[gateway.application], labels=_gateway_selector(env),
                           ports=(("TCP", PROXY_PORT),)))
    ingress = [peer(n, incoming[n]) for n in sorted(incoming)]
    if svc.spec.expose is not None:
        port_name = svc.spec.expose.port or next(iter(svc.spec.ports))
        port = svc.spec.ports[port_name]
        ingress.append(TRAEFIK.model_copy(update={"ports": ((port.protocol, port.port),)}))
    if (scraper := prometheus_peer(env.cluster, svc.spec)) is not None:
        ingress.append(scraper)
    return NetworkAccessProps(
        name=svc.name,
        namespace=svc.namespace,
        labels=props.labels,
        selector=props.selector,
        ingress_from=tuple(ingress),
        egress_to=tuple(egress),
        internet=tuple((e.name, e.reason, tuple(e.ports)) for e in svc.spec.egress),
    )


def _gateway_selector(env: Env) -> tuple[tuple[str, str], ...]:
    return selector_pairs(name=GATEWAY, instance=f"{GATEWAY}-{env.name}")


def _issuer_name(env: Env) -> str:
    return f"letsencrypt-{env.name}"


def _store_name(env: Env) -> str:
    return f"pulumi-esc-{env.name}"


def _environment(root: PlatformTree, env: Env, extensions: tuple[Extension, ...], problems: list[Problem]) -> None:
    scope = SophiaConstruct(root, env.name)
    by_source: dict[str, list[graph.Edge]] = defaultdict(list)
    by_target: dict[str, list[graph.Edge]] = defaultdict(list)
    for edge in graph.edges(env):  # indexed once: looking them up per service was quadratic
        by_source[edge.source].append(edge)
        by_target[edge.target].append(edge)
    gateway = env.spec.llm_gateway
    callers = sorted(s.name for s in env.services.values() if s.spec.calls_llm)
    extra: tuple[tuple[str, str], ...] = ()
    if gateway is not None:
        extra = tuple((env.services[c].spec.application, gateway.application) for c in callers)
        extra += ((gateway.application, gateway.application),)
    extra += tuple((app, app) for app in env.manifests)  # an application of hand-written objects only
    app_waves = graph.application_waves(env, extra)
    by_app: dict[str, list[Service]] = defaultdict(list)
    for svc in env.services.values():
        by_app[svc.spec.application].append(svc)
    if gateway is not None:
        by_app.setdefault(gateway.application, [])
    for app in env.manifests:
        by_app.setdefault(app, [])

    for app in sorted(by_app):
        folder = f"{env.name}/{app}"
        namespace = env.spec.namespaces[app]
        app_scope = ApplicationChart(scope, app, folder=folder, namespace=namespace)
        exposed = env.spec.tls is not None and any(s.spec.expose for s in by_app[app])
        level, reasons = pod_security_for({svc.name: _waived(env, svc) for svc in by_app[app]})
        Namespace(app_scope, "Namespace", folder=folder, props=NamespaceProps(
            name=namespace, environment=env.name, application=app, acme_solver=exposed,
            pod_security=level, pod_security_reasons=reasons))
        registry = app_scope.patch_registry
        assert registry is not None
        for svc in sorted(by_app[app], key=lambda s: s.name):
            for patch in svc.patches:
                registry.add(patch)
        for svc in sorted(by_app[app], key=lambda s: s.name):
            props = _workload_props(env, svc, by_source[svc.name])
            _WORKLOADS[svc.spec.type](app_scope, svc.name, folder=folder, props=props)
            if svc.spec.expose is not None and env.spec.domain is not None:
                expose = svc.spec.expose
                Exposure(app_scope, f"Exposure-{svc.name}", folder=folder, props=ExposureProps(
                    name=svc.name,
                    namespace=svc.namespace,
                    labels=props.labels,
                    host=f"{expose.host}.{env.spec.domain}",
                    path=expose.path,
                    port=expose.port or next(iter(svc.spec.ports)),
                    issuer=_issuer_name(env),
                ))
            if props.secret_name is not None and env.spec.esc is not None:
                ServiceSecrets(app_scope, f"ServiceSecrets-{svc.name}", folder=folder, props=ServiceSecretsProps(
                    name=props.secret_name,
                    namespace=svc.namespace,
                    labels=props.labels,
                    store=_store_name(env),
                    refresh_interval=env.spec.esc.refresh_interval,
                    items=tuple((k, v.key) for k, v in sorted(svc.spec.secrets.items())),
                ))
            NetworkAccess(app_scope, f"NetworkAccess-{svc.name}", folder=folder, props=_network_props(
                env, props, by_source[svc.name], by_target[svc.name]))
            run_service_extensions(extensions, app_scope, env, svc, problems)

        if gateway is not None and gateway.application == app and env.spec.esc is not None:
            _llm_gateway(app_scope, env, folder, callers)
        if env.manifests.get(app):
            HandWrittenManifests(app_scope, "hand-written", folder=folder, objects=env.manifests[app])
        run_application_extensions(extensions, app_scope, env, app, problems)
        problems.extend(registry.problems)
        problems.extend(registry.unapplied())

    platform_folder = f"{env.name}/{PLATFORM_FOLDER}"
    if env.spec.tls is not None or env.spec.esc is not None:  # the folder the platform Application syncs
        platform = ApplicationChart(scope, PLATFORM_FOLDER, folder=platform_folder, namespace=_platform_namespace(env))
    if env.spec.tls is not None:
        AcmeIssuer(platform, "AcmeIssuer", folder=platform_folder, props=AcmeIssuerProps(
            name=_issuer_name(env), environment=env.name, email=env.spec.tls.email, server=env.spec.tls.acme,
        ))
    if env.spec.esc is not None:
        EscSecretStore(platform, "EscSecretStore", folder=platform_folder, props=EscSecretStoreProps(
            name=_store_name(env),
            environment=env.name,
            esc=env.spec.esc,
            namespaces=tuple(sorted(env.spec.namespaces[a] for a in by_app)),
        ))
    _argocd(scope, env, sorted(by_app), app_waves)


def _platform_namespace(env: Env) -> str:
    """The namespace the platform Application deploys to (its objects are cluster-scoped)."""
    return env.spec.esc.token_secret.namespace if env.spec.esc else "cert-manager"


def _llm_gateway(scope: ApplicationChart, env: Env, folder: str, callers: list[str]) -> None:
    gateway = env.spec.llm_gateway
    assert gateway is not None and env.spec.esc is not None
    pool = env.cluster.spec.node_pools[gateway.placement.pool]
    props = LlmGatewayProps(
        namespace=env.spec.namespaces[gateway.application],
        environment=env.name,
        node_labels=tuple(sorted(pool.labels.items())),
        resources=gateway.resources,
        autoscaling=gateway.autoscaling,
        routing=gateway.routing,
        store=_store_name(env),
        refresh_interval=env.spec.esc.refresh_interval,
    )
    LlmGateway(scope, "LlmGateway", folder=folder, props=props)
    ingress = []
    for caller in callers:
        c = env.services[caller]
        ingress.append(Peer(namespace=c.namespace, labels=selector_pairs(name=caller, instance=f"{caller}-{env.name}"),
                            ports=(("TCP", PROXY_PORT),)))
    NetworkAccess(scope, f"NetworkAccess-{GATEWAY}", folder=folder, props=NetworkAccessProps(
        name=GATEWAY,
        namespace=props.namespace,
        labels=props.labels,
        selector=props.selector,
        ingress_from=tuple(ingress),
        internet=tuple((t, "LLM provider API behind the gateway", (443,)) for t in sorted({x.provider for x in gateway.routing.targets})),
    ))


def _argocd(env_scope: SophiaConstruct, env: Env, apps: list[str], waves: dict[str, int]) -> None:
    folder = f"{env.name}/{ARGOCD_FOLDER}"
    spec = env.spec
    project = f"sophia-{env.name}"
    argo_ns = spec.argocd.namespace
    scope = ApplicationChart(env_scope, ARGOCD_FOLDER, folder=folder, namespace=argo_ns)
    namespaces = sorted({spec.namespaces[a] for a in apps} | {argo_ns}
                        | ({spec.esc.token_secret.namespace} if spec.esc else set())
                        | ({"cert-manager"} if spec.tls and not spec.esc else set()))
    ArgoProject(scope, "project", folder=folder, props=ArgoProjectProps(
        name=project,
        namespace=argo_ns,
        cluster=env.cluster.metadata.name,
        description=f"Sophia AI {env.name}: only {spec.source.repo_url} into {env.cluster.metadata.name}",
        source_repos=(spec.source.repo_url,),
        namespaces=tuple(namespaces),
        cluster_resources=(("", "Namespace"),)
        + ((("external-secrets.io", "ClusterSecretStore"),) if spec.esc else ())
        + ((("cert-manager.io", "ClusterIssuer"),) if spec.tls else ()),
    ))
    base = spec.source.path.rstrip("/")
    common: dict[str, Any] = {
        "namespace": argo_ns, "project": project, "repo_url": spec.source.repo_url,
        # a promoted environment tracks its deploy branch: what it runs is dist/ at that branch, where the
        # promote workflow pins the children to the revision; a merge to main changes nothing there
        "revision": spec.promotion.deploy_branch(env.name) if spec.promotion else spec.source.target_revision,
        "cluster": env.cluster.metadata.name,
    }
    for app in apps:
        ArgoApplication(scope, f"app-{app}", folder=folder, props=ArgoApplicationProps(
            **common,
            name=f"{env.name}-{app}",
            path=f"{base}/{env.name}/{app}",
            dest_namespace=spec.namespaces[app],
            wave=waves[app],
        ))
    if spec.esc is not None or spec.tls is not None:
        ArgoApplication(scope, "app-platform", folder=folder, props=ArgoApplicationProps(
            **common,
            name=f"{env.name}-{PLATFORM_FOLDER}",
            component="argocd-platform",
            path=f"{base}/{env.name}/{PLATFORM_FOLDER}",
            dest_namespace=_platform_namespace(env),
            wave=min(waves.values(), default=0) - 1,
        ))
    ArgoApplication(scope, "root", folder=folder, props=ArgoApplicationProps(
        **common,
        name=f"{env.name}-root",
        component="argocd-root",
        path=f"{base}/{env.name}/{ARGOCD_FOLDER}",
        dest_namespace=argo_ns,
        wave=-20,
    ))
