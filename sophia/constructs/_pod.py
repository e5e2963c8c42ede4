"""The hardened pod template of a workload: the main container, init containers and sidecars, probes,
volumes, affinity, tolerations, topology spread -- hardening, labels and probes defined once.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from sophia.model.models import (
    POD_IP_VARIABLE,
    SCRATCH_PREFIX,
    SECRET_FILES_VOLUME,
    InitContainer,
    Lifecycle,
    Probe,
    Probes,
    Resources,
    ServiceSpec,
    Sidecar,
    uses_pod_ip,
)

if TYPE_CHECKING:
    from sophia.k8s.core_v1 import (
        Affinity,
        Container,
        EnvVar,
        PodSecurityContext,
        PodSpec,
        PodTemplateSpec,
        ResourceRequirements,
        SecurityContext,
        TopologySpreadConstraint,
        Volume,
        VolumeMount,
    )
    from sophia.k8s.core_v1 import Lifecycle as KubeLifecycle
    from sophia.k8s.core_v1 import Probe as KubeProbe
    from sophia.k8s.meta_v1 import ObjectMeta


from sophia.constructs._workload_props import EXCEPTION_ANNOTATION, GPU_RESOURCE, WorkloadProps


def node_affinity(node_labels: tuple[tuple[str, str], ...]) -> Affinity:
    """Required node affinity on every label of a pool."""
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in node_labels]}
    ]}}}


def container_security(uid: int, relax: frozenset[str] = frozenset()) -> SecurityContext:
    """The restricted container securityContext, less any named relaxation."""
    csc: SecurityContext = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": "readOnlyRootFilesystem" not in relax,
        "runAsNonRoot": "runAsNonRoot" not in relax,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if "runAsNonRoot" not in relax:
        csc["runAsUser"] = uid
        csc["runAsGroup"] = uid
    if "capabilities" in relax:
        del csc["capabilities"]
    if "seccompProfile" in relax:
        del csc["seccompProfile"]
    return csc


def _probe(probe: Probe | None) -> KubeProbe | None:
    if probe is None:
        return None
    out: KubeProbe = {
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }
    if probe.initial_delay_seconds:
        out["initialDelaySeconds"] = probe.initial_delay_seconds
    if probe.http is not None:
        out["httpGet"] = {"path": probe.http.path, "port": probe.http.port}
    elif probe.tcp is not None:
        out["tcpSocket"] = {"port": probe.tcp.port}
    elif probe.exec is not None:
        out["exec"] = {"command": list(probe.exec)}
    return out


def _set_probes(container: Container, probes: Probes) -> None:
    if (liveness := _probe(probes.liveness)) is not None:
        container["livenessProbe"] = liveness
    if (readiness := _probe(probes.readiness)) is not None:
        container["readinessProbe"] = readiness
    if (startup := _probe(probes.startup)) is not None:
        container["startupProbe"] = startup


def _volume_name(path: str) -> str:
    cleaned = "".join(c if c.isascii() and c.isalnum() else "-" for c in path.strip("/").lower()).strip("-")
    return (f"{SCRATCH_PREFIX}-{cleaned}")[:63].rstrip("-") if cleaned else SCRATCH_PREFIX


def scratch_volume_names(paths: list[str]) -> list[str]:
    """A DNS-1123 label per scratch path, unique: `scratch-<path>`; a path whose name an earlier path
    took (`/a_b` and `/a-b`, `/Tmp` and `/tmp`) gets 8 hex digits of its SHA-256 on top."""
    names: list[str] = []
    for path in paths:
        name = _volume_name(path)
        if name in names:
            name = f"{name[:54].rstrip('-')}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
        names.append(name)
    return names


def pod_template(p: WorkloadProps, *, restart_policy: str | None = None, claims: bool = False) -> PodTemplateSpec:
    """The hardened pod template of a workload."""
    s = p.spec
    relax = frozenset(p.relax)
    uid = s.run_as_user
    csc = container_security(uid, relax)
    psc: PodSecurityContext = {"fsGroup": uid, "fsGroupChangePolicy": "OnRootMismatch"}
    if "runAsNonRoot" not in relax:
        psc.update({"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid})
    if "seccompProfile" not in relax:
        psc["seccompProfile"] = {"type": "RuntimeDefault"}

    container: Container = {
        "name": p.name,
        "image": p.image,
        "imagePullPolicy": "Always",
        "securityContext": csc,
        "resources": _resources(s.resources, p.gpu_count),
    }
    if s.command is not None:
        container["command"] = list(s.command)
    if s.args is not None:
        container["args"] = list(s.args)
    if s.ports:
        container["ports"] = [
            {"name": n, "containerPort": port.port, "protocol": port.protocol} for n, port in s.ports.items()
        ]
    if p.env:
        container["envFrom"] = [{"configMapRef": {"name": f"{p.name}-env"}}]
    env_items: list[EnvVar] = [
        {"name": item.name, "valueFrom": {"secretKeyRef": {"name": p.secret, "key": item.name}}}
        for item in p.secrets
        if item.mount_path is None
    ]
    if uses_pod_ip(s):
        env_items.insert(0, {"name": POD_IP_VARIABLE, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    if env_items:
        container["env"] = env_items
    _set_probes(container, s.probes)
    if s.lifecycle is not None:
        container["lifecycle"] = _lifecycle(s.lifecycle)

    mounts = _scratch_mounts(s)
    volumes: list[Volume] = [{"name": mount["name"], "emptyDir": {}} for mount in mounts]
    file_items = [i for i in p.secrets if i.mount_path is not None]
    for item in file_items:
        assert item.mount_path is not None
        mounts.append({"name": SECRET_FILES_VOLUME, "mountPath": item.mount_path, "subPath": item.name, "readOnly": True})
    if file_items:
        volumes.append({"name": SECRET_FILES_VOLUME, "secret": {"secretName": p.secret, "defaultMode": 0o440}})
    if claims:
        for vname, vol in s.volumes.items():
            mounts.append({"name": vname, "mountPath": vol.mount_path})
    if mounts:
        container["volumeMounts"] = mounts

    pod: PodSpec = {
        "serviceAccountName": p.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": psc,
        "containers": [container],
        "affinity": node_affinity(p.node_labels),
    }
    if volumes:
        pod["volumes"] = volumes
    if p.tolerations:
        pod["tolerations"] = [
            {"key": k, "operator": "Equal", "value": v, "effect": e} if v else {"key": k, "operator": "Exists", "effect": e}
            for k, v, e in p.tolerations
        ]
    if p.runtime_class:
        pod["runtimeClassName"] = p.runtime_class
    if restart_policy:
        pod["restartPolicy"] = restart_policy
    init = [*(_init_container(p, c) for c in s.init_containers), *(_sidecar(p, c) for c in s.sidecars)]
    if init:
        pod["initContainers"] = init
    if s.termination_grace_period_seconds is not None:
        pod["terminationGracePeriodSeconds"] = s.termination_grace_period_seconds
    if (spread := _topology_spread(p)) is not None:
        pod["topologySpreadConstraints"] = spread

    annotations: dict[str, str] = dict(s.pod_annotations)
    if p.env:
        digest = hashlib.sha256(json.dumps(dict(p.env), sort_keys=True).encode()).hexdigest()[:16]
        annotations["sophia.ai/config-hash"] = digest
    if p.relax:
        annotations[EXCEPTION_ANNOTATION] = f"{', '.join(sorted(p.relax))}: {p.exception_reason}"
    template_meta: ObjectMeta = {"labels": {**p.labels, **s.pod_labels}}
    if annotations:
        template_meta["annotations"] = annotations
    return {"metadata": template_meta, "spec": pod}


def _resources(r: Resources, gpus: int = 0) -> ResourceRequirements:
    limits: dict[str, str | int | float] = {"cpu": r.limits.cpu, "memory": r.limits.memory}
    if gpus:
        limits[GPU_RESOURCE] = gpus
    return {"requests": {"cpu": r.requests.cpu, "memory": r.requests.memory}, "limits": limits}


def _scratch_mounts(s: ServiceSpec) -> list[VolumeMount]:
    """The writable scratch folders, mounted in every container of the pod (each gets its own list)."""
    return [{"name": vname, "mountPath": path}
            for path, vname in zip(s.scratch, scratch_volume_names(list(s.scratch)), strict=True)]


def _lifecycle(lifecycle: Lifecycle) -> KubeLifecycle:
    pre = lifecycle.pre_stop
    if pre.sleep_seconds is not None:
        return {"preStop": {"sleep": {"seconds": pre.sleep_seconds}}}
    assert pre.exec is not None, "PreStop: exactly one of exec or sleepSeconds"
    return {"preStop": {"exec": {"command": list(pre.exec)}}}


def _init_container(p: WorkloadProps, c: InitContainer) -> Container:
    """An init container, hardened exactly like the main container: the same securityContext (with the
    service's named relaxations) and user, the same scratch folders; its own env only."""
    container: Container = {
        "name": c.name,
        "image": c.image.reference,
        "imagePullPolicy": "Always",
        "securityContext": container_security(p.spec.run_as_user, frozenset(p.relax)),
        "resources": _resources(c.resources),
    }
    if c.command is not None:
        container["command"] = list(c.command)
    if c.args is not None:
        container["args"] = list(c.args)
    env: list[EnvVar] = [{"name": k, "value": v} for k, v in c.env.items()]
    ref = f"$({POD_IP_VARIABLE})"
    if any(ref in arg for arg in [*(c.command or []), *(c.args or [])]):
        env.insert(0, {"name": POD_IP_VARIABLE, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    if env:
        container["env"] = env
    if mounts := _scratch_mounts(p.spec):
        container["volumeMounts"] = mounts
    return container


def _sidecar(p: WorkloadProps, c: Sidecar) -> Container:
    """A native sidecar: an init container that Kubernetes restarts (restartPolicy Always), so it starts
    before the main container, runs beside it, and stops after it."""
    container = _init_container(p, c)
    container["restartPolicy"] = "Always"
    if c.ports:
        container["ports"] = [{"name": n, "containerPort": port.port, "protocol": port.protocol} for n, port in c.ports.items()]
    _set_probes(container, c.probes)
    return container


def _topology_spread(p: WorkloadProps) -> list[TopologySpreadConstraint] | None:
    """Replicas spread over the nodes of the pool (its node affinity limits what counts), by the service's own
    selector; only while more than one pod runs or it autoscales."""
    s = p.spec
    if s.topology_spread is None or (s.autoscaling is None and s.replicas < 2):
        return None
    return [{
        "topologyKey": "kubernetes.io/hostname",
        "maxSkew": s.topology_spread.max_skew,
        "whenUnsatisfiable": s.topology_spread.when_unsatisfiable,
        "labelSelector": {"matchLabels": p.selector},
    }]
