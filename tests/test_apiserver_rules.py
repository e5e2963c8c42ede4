"""The API server's rules beyond the schemas (`sophia.validate.apiserver`): for every rule a manifest
that passes and at least one that fails, with the exact message; and the committed dist/ passes."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sophia.validate import validate_paths
from sophia.validate.apiserver import api_problems
from sophia.validate.documents import Resource, read_paths
from sophia.validate.report import dotted

ROOT = Path(__file__).resolve().parents[1]
DELETE = object()

_BASES = {
    "deployment": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: core, labels: {app: api}}
        spec:
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              volumes: [{name: tmp, emptyDir: {}}]
              containers:
                - name: api
                  image: api:1.0
                  ports: [{name: http, containerPort: 8080}]
                  resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: "1", memory: 512Mi}}
                  livenessProbe: {httpGet: {path: /healthz, port: http}}
                  volumeMounts: [{name: tmp, mountPath: /tmp}]
                  env: [{name: LOG_LEVEL, value: info}]
    """,
    "statefulset": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: data}
        spec:
          serviceName: db-headless
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers: [{name: db, image: postgres:16, volumeMounts: [{name: data, mountPath: /var/lib/pg}]}]
          volumeClaimTemplates:
            - metadata: {name: data}
              spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
    """,
    "daemonset": """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent, namespace: ops}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: agent, image: agent:1}]}
    """,
    "job": """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate, namespace: core}
        spec:
          template:
            spec: {restartPolicy: Never, containers: [{name: migrate, image: migrate:1}]}
    """,
    "cronjob": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report, namespace: core}
        spec:
          schedule: "*/5 * * * *"
          timeZone: Etc/UTC
          jobTemplate:
            spec:
              template:
                spec: {restartPolicy: OnFailure, containers: [{name: report, image: report:1}]}
    """,
    "service": """
        apiVersion: v1
        kind: Service
        metadata: {name: api, namespace: core}
        spec:
          type: ClusterIP
          selector: {app: api}
          ports:
            - {name: http, port: 80, targetPort: http, protocol: TCP}
            - {name: grpc, port: 9090, targetPort: 9090, protocol: TCP}
    """,
    "pdb": """
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: api, namespace: core}
        spec: {maxUnavailable: 1, selector: {matchLabels: {app: api}}}
    """,
    "hpa": """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api, namespace: core}
        spec:
          scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
          minReplicas: 2
          maxReplicas: 4
          metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
    """,
    "netpol": """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: api, namespace: core}
        spec:
          podSelector: {matchLabels: {app: api}}
          policyTypes: [Ingress, Egress]
          ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{protocol: TCP, port: http}]}]
          egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}], ports: [{protocol: TCP, port: 443}]}]
    """,
    "ingress": """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: api, namespace: core}
        spec:
          ingressClassName: traefik
          tls: [{hosts: [api.example.org], secretName: api-tls}]
          rules:
            - host: api.example.org
              http:
                paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}]
    """,
    "configmap": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: api-env, namespace: core}
        data: {LOG_LEVEL: info}
    """,
    "pvc": """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: data, namespace: core}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
    """,
    "application": """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: web, namespace: argocd, finalizers: [resources-finalizer.argocd.argoproj.io/foreground]}
        spec: {project: default}
    """,
    "role": """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: "system:reader", namespace: core}
    """,
    "namespace": """
        apiVersion: v1
        kind: Namespace
        metadata: {name: sophia-core}
    """,
}


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts: list[str | int] = [
        key if key else int(index) if index else name for key, index, name in re.findall(r"\['([^']*)'\]|\[(\d+)\]|([^.\[\]]+)", path)
    ]
    parent: Any = doc
    for part in parts[:-1]:
        parent = parent[part]
    if value is DELETE:
        del parent[parts[-1]]
    elif isinstance(parent, list) and parts[-1] == len(parent):
        parent.append(value)
    else:
        parent[parts[-1]] = value


def _manifest(base: str, changes: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(yaml.safe_load(_BASES[base].replace("\n        ", "\n")))
    for path, value in changes.items():
        _set(doc, path, value)
    return doc


def _problems(doc: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(dotted(path), message, warning) for path, message, warning in api_problems(Resource("m.yaml", 1, doc))]


C = "spec.template.spec.containers[0]"
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
             "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
                 "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, "
               "and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')")
VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and "
             "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
NAME_PART_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                 "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
QUANTITY_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
FINALIZER_MSG = "prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"
LONG = "a" * 64

# (id, base, changes, expected findings); a good manifest per base is checked by test_the_bases_are_valid.
CASES: list[tuple[str, str, dict[str, Any], list[tuple[str, str, bool]]]] = [
    # names, by kind
    ("name-subdomain", "configmap", {"metadata.name": "Api.Env"},
     [("metadata.name", f'Invalid value: "Api.Env": {SUBDOMAIN_MSG}', False)]),
    ("name-subdomain-dots-ok", "configmap", {"metadata.name": "api.env"}, []),
    ("name-subdomain-too-long", "configmap", {"metadata.name": "a" * 254},
     [("metadata.name", f'Invalid value: "{"a" * 254}": must be no more than 253 characters', False)]),
    ("name-service-dns1035", "service", {"metadata.name": "1api"},
     [("metadata.name", f'Invalid value: "1api": {DNS1035_MSG}', False)]),
    ("name-namespace-label", "namespace", {"metadata.name": "sophia.core"},
     [("metadata.name", 'Invalid value: "sophia.core": must not contain dots', False)]),
    ("name-statefulset-label", "statefulset", {"metadata.name": "db.main"},
     [("metadata.name", 'Invalid value: "db.main": must not contain dots', False)]),
    ("name-cronjob-52", "cronjob", {"metadata.name": "r" * 53},
     [("metadata.name", f'Invalid value: "{"r" * 53}": must be no more than 52 characters', False)]),
    ("name-cronjob-52-ok", "cronjob", {"metadata.name": "r" * 52}, []),
    ("name-job-label", "job", {"metadata.name": "m" * 64},
     [("spec.template.metadata.labels", f'Invalid value: "{"m" * 64}": must be no more than 63 characters', False)]),
    ("name-custom-resource", "application", {"metadata.name": "Web"},
     [("metadata.name", f'Invalid value: "Web": {SUBDOMAIN_MSG}', False)]),
    ("name-rbac-path-segment", "role", {"metadata.name": "a/b"},
     [("metadata.name", "Invalid value: \"a/b\": may not contain '/'", False)]),
    ("name-workload-warning", "deployment", {"metadata.name": "api.v2"},
     [("metadata.name", "this is used in Pod names and hostnames, which can result in surprising behavior; "
       "a DNS label is recommended: [must not contain dots]", True)]),
    # metadata
    ("namespace", "configmap", {"metadata.namespace": "Core"},
     [("metadata.namespace", f'Invalid value: "Core": {LABEL_MSG}', False)]),
    ("label-key", "configmap", {"metadata.labels": {"-app": "x"}},
     [("metadata.labels", f'Invalid value: "-app": {NAME_PART_MSG}', False)]),
    ("label-key-prefix", "configmap", {"metadata.labels": {"Example.com/app": "x"}},
     [("metadata.labels", f'Invalid value: "Example.com/app": prefix part {SUBDOMAIN_MSG}', False)]),
    ("label-value-long", "configmap", {"metadata.labels": {"app": LONG}},
     [("metadata.labels", f'Invalid value: "{LONG}": must be no more than 63 characters', False)]),
    ("label-value-chars", "configmap", {"metadata.labels": {"version": "_1.0"}},
     [("metadata.labels", f'Invalid value: "_1.0": {VALUE_MSG}', False)]),
    ("annotation-key", "configmap", {"metadata.annotations": {"Example.com/Note": "ok", "bad key": "x"}},
     [("metadata.annotations", f'Invalid value: "bad key": {NAME_PART_MSG}', False)]),
    ("annotation-size", "configmap", {"metadata.annotations": {"note": "x" * (256 * 1024)}},
     [("metadata.annotations", "Too long: must have at most 262144 bytes", False)]),
    ("finalizer-qualified", "configmap", {"metadata.finalizers": ["a/b/c"]},
     [("metadata.finalizers", 'Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, \'-\', \'_\' '
       "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
       "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' "
       "(e.g. 'example.com/MyName')", False)]),
    ("finalizer-warning", "application", {"metadata.finalizers": ["resources-finalizer.argocd.argoproj.io"]},
     [("metadata.finalizers[0]", f'"resources-finalizer.argocd.argoproj.io": {FINALIZER_MSG}', True)]),
    ("finalizer-standard", "configmap", {"metadata.finalizers": ["kubernetes", "foregroundDeletion"]}, []),
    # label selectors
    ("selector-operator", "pdb", {"spec.selector": {"matchExpressions": [{"key": "app", "operator": "Is", "values": ["api"]}]}},
     [("spec.selector.matchExpressions[0].operator", 'Invalid value: "Is": not a valid selector operator', False)]),
    ("selector-in-without-values", "pdb", {"spec.selector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
     [("spec.selector.matchExpressions[0].values", "Required value: must be specified when `operator` is 'In' or 'NotIn'", False)]),
    ("selector-exists-with-values", "pdb", {"spec.selector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}},
     [("spec.selector.matchExpressions[0].values", "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'", False)]),
    ("selector-value", "pdb", {"spec.selector.matchLabels": {"app": "a b"}},
     [("spec.selector.matchLabels", f'Invalid value: "a b": {VALUE_MSG}', False)]),
    # pod specs
    ("container-name", "deployment", {f"{C}.name": "API"},
     [(f"{C}.name", f'Invalid value: "API": {LABEL_MSG}', False)]),
    ("container-names-unique", "deployment", {"spec.template.spec.initContainers": [{"name": "api", "image": "init:1"}]},
     [("spec.template.spec.initContainers[0].name", 'Duplicate value: "api"', False)]),
    ("container-image", "deployment", {f"{C}.image": ""}, [(f"{C}.image", "Required value", False)]),
    ("volume-name", "deployment", {"spec.template.spec.volumes[0].name": "Tmp", f"{C}.volumeMounts": DELETE},
     [("spec.template.spec.volumes[0].name", f'Invalid value: "Tmp": {LABEL_MSG}', False)]),
    ("volume-names-unique", "deployment", {"spec.template.spec.volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]},
     [("spec.template.spec.volumes[1].name", 'Duplicate value: "tmp"', False)]),
    ("volume-type", "deployment", {"spec.template.spec.volumes[0]": {"name": "tmp"}},
     [("spec.template.spec.volumes[0]", "Required value: must specify a volume type", False),
      (f"{C}.volumeMounts[0].name", 'Not found: "tmp"', False)]),
    ("volume-mount-missing", "deployment", {f"{C}.volumeMounts[0].name": "cache"},
     [(f"{C}.volumeMounts[0].name", 'Not found: "cache"', False)]),
    ("volume-mount-paths-unique", "deployment", {f"{C}.volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "tmp", "mountPath": "/tmp"}]},
     [(f"{C}.volumeMounts[1].mountPath", 'Invalid value: "/tmp": must be unique', False)]),
    ("port-name-long", "deployment", {f"{C}.ports[0].name": "metrics-endpoint", f"{C}.livenessProbe.httpGet.port": 8080},
     [(f"{C}.ports[0].name", 'Invalid value: "metrics-endpoint": must be no more than 15 characters', False)]),
    ("port-name-hyphens", "deployment", {f"{C}.ports[0].name": "h--p", f"{C}.livenessProbe.httpGet.port": 8080},
     [(f"{C}.ports[0].name", 'Invalid value: "h--p": must not contain consecutive hyphens', False)]),
    ("port-name-letter", "deployment", {f"{C}.ports[0].name": "8080", f"{C}.livenessProbe.httpGet.port": 8080},
     [(f"{C}.ports[0].name", 'Invalid value: "8080": must contain at least one letter (a-z)', False)]),
    ("port-names-unique", "deployment", {f"{C}.ports[1]": {"name": "http", "containerPort": 9090}},
     [(f"{C}.ports[1].name", 'Duplicate value: "http"', False)]),
    ("port-number", "deployment", {f"{C}.ports[0].containerPort": 70000},
     [(f"{C}.ports[0].containerPort", "Invalid value: 70000: must be between 1 and 65535, inclusive", False)]),
    ("probe-no-handler", "deployment", {f"{C}.livenessProbe": {"periodSeconds": 10}},
     [(f"{C}.livenessProbe", "Required value: must specify a handler type", False)]),
    ("probe-two-handlers", "deployment", {f"{C}.livenessProbe.tcpSocket": {"port": 8080}},
     [(f"{C}.livenessProbe.tcpSocket", "Forbidden: may not specify more than 1 handler type", False)]),
    ("probe-port-name", "deployment", {f"{C}.livenessProbe.httpGet.port": "Http"},
     [(f"{C}.livenessProbe.httpGet.port", 'Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), '
       "and hyphens (-)", False)]),
    ("probe-liveness-success", "deployment", {f"{C}.livenessProbe.successThreshold": 2},
     [(f"{C}.livenessProbe.successThreshold", "Invalid value: 2: must be 1", False)]),
    ("quantity", "deployment", {f"{C}.resources.limits.memory": "512MB"},
     [(f"{C}.resources.limits.memory", f'Invalid value: "512MB": {QUANTITY_MSG}', False)]),
    ("requests-within-limits", "deployment", {f"{C}.resources.requests.cpu": "1500m"},
     [(f"{C}.resources.requests.cpu", 'Invalid value: "1500m": must be less than or equal to cpu limit of 1', False)]),
    ("requests-within-limits-canonical", "deployment", {f"{C}.resources.requests.memory": "1Gi", f"{C}.resources.limits.memory": "1024Mi"}, []),
    ("gpu-whole", "deployment", {f"{C}.resources.limits['nvidia.com/gpu']": 0.5},
     [(f"{C}.resources.limits.nvidia.com/gpu", "Invalid value: 500m: must be an integer", False)]),
    ("gpu-requests-equal-limits", "deployment", {f"{C}.resources.limits['nvidia.com/gpu']": 2, f"{C}.resources.requests['nvidia.com/gpu']": 1},
     [(f"{C}.resources.requests.nvidia.com/gpu", 'Invalid value: "1": must be equal to nvidia.com/gpu limit of 2', False)]),
    ("gpu-limit-required", "deployment", {f"{C}.resources.requests['nvidia.com/gpu']": 1},
     [(f"{C}.resources.limits", "Required value: Limit must be set for non overcommitable resources", False)]),
    ("gpu-limit-only", "deployment", {f"{C}.resources.limits['nvidia.com/gpu']": 1}, []),
    ("resource-name", "deployment", {f"{C}.resources.limits.gpu": 1},
     [(f"{C}.resources.limits.gpu", 'Invalid value: "gpu": must be a standard resource for containers', False)]),
    ("memory-fraction-warning-milli", "deployment", {f"{C}.resources.requests.memory": "100m"},
     [(f"{C}.resources.requests.memory", 'fractional byte value "100m" is invalid, must be an integer', True)]),
    ("restart-policy-deployment", "deployment", {"spec.template.spec.restartPolicy": "OnFailure"},
     [("spec.template.spec.restartPolicy", 'Unsupported value: "OnFailure": supported values: "Always"', False)]),
    ("restart-policy-job", "job", {"spec.template.spec.restartPolicy": DELETE},
     [("spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"', False)]),
    ("restart-policy-cronjob", "cronjob", {"spec.jobTemplate.spec.template.spec.restartPolicy": "Always"},
     [("spec.jobTemplate.spec.template.spec.restartPolicy", 'Required value: valid values: "OnFailure", "Never"', False)]),
    ("env-duplicate-warning", "deployment", {f"{C}.env[1]": {"name": "LOG_LEVEL", "value": "debug"}},
     [(f"{C}.env[1]", 'hides previous definition of "LOG_LEVEL", which may be dropped when using apply', True)]),
    ("env-secret-key", "deployment", {f"{C}.env[0]": {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "a b"}}}},
     [(f"{C}.env[0].valueFrom.secretKeyRef.key", "Invalid value: \"a b\": a valid config key must consist of alphanumeric "
       "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
       "'[-._a-zA-Z0-9]+')", False)]),
    # workloads
    ("selector-matches-template", "deployment", {"spec.template.metadata.labels": {"app": "web"}},
     [("spec.template.metadata.labels", 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`', False)]),
    ("selector-empty", "deployment", {"spec.selector": {}},
     [("spec.selector", "Invalid value: {}: empty selector is invalid for deployment", False)]),
    ("rolling-update-zero", "deployment", {"spec.strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}},
     [("spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0%: may not be 0 when `maxSurge` is 0", False)]),
    ("rolling-update-default-surge", "deployment", {"spec.strategy": {"rollingUpdate": {"maxUnavailable": 0}}}, []),
    ("rolling-update-percent", "deployment", {"spec.strategy": {"rollingUpdate": {"maxUnavailable": "150%"}}},
     [("spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 150%: must not be greater than 100%", False)]),
    ("daemonset-surge-and-unavailable", "daemonset", {"spec.updateStrategy": {"rollingUpdate": {"maxSurge": 1}}},
     [("spec.updateStrategy.rollingUpdate.maxSurge", "Invalid value: 1: may not be set when maxUnavailable is non-zero", False)]),
    ("statefulset-service-name", "statefulset", {"spec.serviceName": "db.headless"},
     [("spec.serviceName", 'Invalid value: "db.headless": must not contain dots', False)]),
    ("statefulset-claim-storage", "statefulset", {"spec.volumeClaimTemplates[0].spec.resources.requests": {}},
     [("spec.volumeClaimTemplates[0].spec.resources.requests.storage", "Required value", False)]),
    ("statefulset-claim-volume", "statefulset", {"spec.volumeClaimTemplates": DELETE},
     [("spec.template.spec.containers[0].volumeMounts[0].name", 'Not found: "data"', False)]),
    ("job-selector-generated", "job", {"spec.selector": {"matchLabels": {"app": "migrate"}}},
     [("spec.selector", 'Invalid value: {"matchLabels":{"app":"migrate"}}: `selector` not auto-generated', False)]),
    ("job-selector-manual", "job", {"spec.manualSelector": True, "spec.selector": {"matchLabels": {"app": "migrate"}},
                                    "spec.template.metadata": {"labels": {"app": "migrate"}}}, []),
    ("cronjob-schedule-fields", "cronjob", {"spec.schedule": "*/5 * * *"},
     [("spec.schedule", 'Invalid value: "*/5 * * *": expected exactly 5 fields, found 4: [*/5 * * *]', False)]),
    ("cronjob-schedule-range", "cronjob", {"spec.schedule": "0 24 * * *"},
     [("spec.schedule", 'Invalid value: "0 24 * * *": end of range (24) above maximum (23): 24', False)]),
    ("cronjob-schedule-names", "cronjob", {"spec.schedule": "0 3 * jan-mar MON-FRI"}, []),
    ("cronjob-schedule-descriptor", "cronjob", {"spec.schedule": "@weekly"}, []),
    ("cronjob-schedule-tz", "cronjob", {"spec.schedule": "TZ=UTC 0 3 * * *"},
     [("spec.schedule", 'Invalid value: "TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead', False)]),
    ("cronjob-time-zone", "cronjob", {"spec.timeZone": "Local"},
     [("spec.timeZone", 'Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones', False)]),
    # Service
    ("service-port-names-required", "service", {"spec.ports[1].name": DELETE},
     [("spec.ports[1].name", "Required value", False)]),
    ("service-port-names-unique", "service", {"spec.ports[1].name": "http"},
     [("spec.ports[1].name", 'Duplicate value: "http"', False)]),
    ("service-port-name-label", "service", {"spec.ports[0].name": "HTTP", "spec.ports[1].name": "grpc-api-over-h2"}, [
        ("spec.ports[0].name", f'Invalid value: "HTTP": {LABEL_MSG}', False)]),
    ("service-target-port", "service", {"spec.ports[0].targetPort": "web_http"},
     [("spec.ports[0].targetPort", 'Invalid value: "web_http": must contain only alpha-numeric characters (a-z, 0-9), '
       "and hyphens (-)", False)]),
    ("service-single-port-unnamed", "service", {"spec.ports": [{"port": 80, "targetPort": 8080}]}, []),
    ("service-headless-nodeport", "service", {"spec.type": "NodePort", "spec.clusterIP": "None"},
     [("spec.clusterIP", "Invalid value: \"None\": may not be set to 'None' for NodePort services", False)]),
    ("service-headless", "service", {"spec.clusterIP": "None"}, []),
    # PodDisruptionBudget, HorizontalPodAutoscaler
    ("pdb-both", "pdb", {"spec.minAvailable": 1},
     [("spec", 'Invalid value: {"maxUnavailable":1,"minAvailable":1,"selector":{"matchLabels":{"app":"api"}}}: '
       "minAvailable and maxUnavailable cannot be both set", False)]),
    ("pdb-min-available", "pdb", {"spec.maxUnavailable": DELETE, "spec.minAvailable": "50%"}, []),
    ("hpa-bounds", "hpa", {"spec.minReplicas": 5},
     [("spec.maxReplicas", "Invalid value: 4: must be greater than or equal to `minReplicas`", False)]),
    ("hpa-utilization", "hpa", {"spec.metrics[0].resource.target.averageUtilization": 0},
     [("spec.metrics[0].resource.target.averageUtilization", "Invalid value: 0: must be greater than 0", False)]),
    ("hpa-average-value", "hpa", {"spec.metrics[0].resource.target": {"type": "AverageValue", "averageValue": "half"}},
     [("spec.metrics[0].resource.target.averageValue", f'Invalid value: "half": {QUANTITY_MSG}', False)]),
    # NetworkPolicy
    ("netpol-cidr", "netpol", {"spec.egress[0].to[0].ipBlock.cidr": "0.0.0.0"},
     [("spec.egress[0].to[0].ipBlock.cidr", 'Invalid value: "0.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)', False)]),
    ("netpol-except-inside", "netpol", {"spec.egress[0].to[0].ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}},
     [("spec.egress[0].to[0].ipBlock.except[0]", 'Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`', False)]),
    ("netpol-port-name", "netpol", {"spec.ingress[0].ports[0].port": "HTTP"},
     [("spec.ingress[0].ports[0].port", 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', False),
      ("spec.ingress[0].ports[0].port", 'Invalid value: "HTTP": must contain at least one letter (a-z)', False)]),
    ("netpol-peer", "netpol", {"spec.egress[0].to[0].podSelector": {}},
     [("spec.egress[0].to[0]", "Forbidden: may not specify both ipBlock and another peer", False)]),
    # Ingress
    ("ingress-host", "ingress", {"spec.rules[0].host": "API.example.org"},
     [("spec.rules[0].host", f'Invalid value: "API.example.org": {SUBDOMAIN_MSG}', False)]),
    ("ingress-host-ip", "ingress", {"spec.rules[0].host": "10.0.0.1"},
     [("spec.rules[0].host", 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address', False)]),
    ("ingress-wildcard", "ingress", {"spec.rules[0].host": "*.example.org", "spec.tls[0].hosts": ["*.example.org"]}, []),
    ("ingress-path-type", "ingress", {"spec.rules[0].http.paths[0].pathType": DELETE},
     [("spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified", False)]),
    ("ingress-path", "ingress", {"spec.rules[0].http.paths[0].path": "/api//v1"},
     [("spec.rules[0].http.paths[0].path", "Invalid value: \"/api//v1\": must not contain '//'", False)]),
    ("ingress-backend", "ingress", {"spec.rules[0].http.paths[0].backend.service.name": "api.v1"},
     [("spec.rules[0].http.paths[0].backend.service.name", f'Invalid value: "api.v1": {DNS1035_MSG}', False)]),
    # quantities elsewhere, config keys
    ("pvc-storage", "pvc", {"spec.resources.requests.storage": "10 Gi"},
     [("spec.resources.requests.storage", f'Invalid value: "10 Gi": {QUANTITY_MSG}', False)]),
    ("pvc-storage-zero", "pvc", {"spec.resources.requests.storage": 0},
     [("spec.resources.requests.storage", 'Invalid value: "0": must be greater than zero', False)]),
    ("empty-dir-size", "deployment", {"spec.template.spec.volumes[0].emptyDir": {"sizeLimit": "1 Gi"}},
     [("spec.template.spec.volumes[0].emptyDir.sizeLimit", f'Invalid value: "1 Gi": {QUANTITY_MSG}', False)]),
    ("config-key", "configmap", {"data": {"app.yaml": "a: 1", "bad/key": "x"}},
     [("data.bad/key", "Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' "
       "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')", False)]),
]


def test_the_bases_are_valid() -> None:
    for base in _BASES:
        assert _problems(_manifest(base, {})) == [], base


@pytest.mark.parametrize(("base", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_api_server_rule(base: str, changes: dict[str, Any], expected: list[tuple[str, str, bool]]) -> None:
    assert _problems(_manifest(base, changes)) == expected


def test_committed_dist_passes_the_api_server_rules() -> None:
    loaded = read_paths([ROOT / "dist"])
    assert [(r.file, *p) for r in loaded.resources for p in _problems(r.data)] == []


def test_api_findings_are_located_and_ruled(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    text = yaml.safe_dump(_manifest("deployment", {f"{C}.name": "API", "metadata.name": "api.v2"}), sort_keys=False)
    path.write_text(text)
    [finding] = validate_paths([path]).errors
    line = text.splitlines().index("      - name: API") + 1
    assert (finding.rule, finding.kind, finding.name, finding.field, finding.line) == ("API", "Deployment", "api.v2", f"{C}.name", line)
    assert finding.render().startswith(f"ERROR {path}:{line} (document 1) Deployment/api.v2 [API] {C}.name: Invalid value: \"API\"")
    path.write_text(yaml.safe_dump(_manifest("deployment", {"metadata.name": "api.v2"}), sort_keys=False))
    [finding] = validate_paths([path]).errors
    assert (finding.rule, finding.field, finding.line) == ("API-WARNING", "metadata.name", 4)


def test_a_schema_error_stops_before_the_api_rules(tmp_path: Path) -> None:
    """As on the API server, which refuses at decoding an object its schema refuses."""
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(_manifest("deployment", {f"{C}.name": "API", f"{C}.imagee": "x"}), sort_keys=False))
    assert [(f.rule, f.message) for f in validate_paths([path]).errors] == [("SCHEMA", 'unknown field "imagee"')]
