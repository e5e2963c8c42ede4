"""Benchmark `sophia validate`: generate 1,000 and 10,000 manifest files and print the time taken.

A script, not a test: `python benchmarks/bench_validate.py [--crds DIR]` (default: $SOPHIA_CRDS; releases pinned by environments/).
Files vary over Deployment, Service, StatefulSet, ConfigMap, NetworkPolicy, Argo CD Application
and ExternalSecret (the last two only when a CRD folder is given), with varied names and values.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sophia.validate.command import check_paths, crd_catalog

_POD = """\
    metadata:
      labels: {{app: app-{i}, tier: web-{n}}}
    spec:
      securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: app
          image: ghcr.io/sophia/app-{i}:1.{i}.0
          env: [{{name: LOG_LEVEL, value: info}}, {{name: WORKERS, value: "{i}"}}]
          resources: {{requests: {{cpu: 100m, memory: 64Mi}}, limits: {{cpu: 200m, memory: 128Mi}}}}
          livenessProbe: {{httpGet: {{path: /healthz, port: 8000}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8000}}}}
          securityContext: {{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}
"""
TEMPLATES = {
    "Deployment": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: ns-{n}}}\n"
    "spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n" + _POD,
    "StatefulSet": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: app-{i}, namespace: ns-{n}}}\n"
    "spec:\n  serviceName: app-{i}\n  selector: {{matchLabels: {{app: app-{i}}}}}\n  template:\n" + _POD,
    "Service": "apiVersion: v1\nkind: Service\nmetadata: {{name: app-{i}, namespace: ns-{n}}}\n"
    "spec: {{selector: {{tier: web-{n}}}, ports: [{{port: 80, targetPort: 8000, name: http}}]}}\n",
    "ConfigMap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg-{i}, namespace: ns-{n}}}\n"
    "data: {{LOG_LEVEL: info, FEATURE_{i}: 'on', ENDPOINT: http://svc-{i}.ns-{n}.svc:8080}}\n",
    "NetworkPolicy": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny-{i}, namespace: ns-{n}}}\n"
    "spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n",
}
CRD_TEMPLATES = {
    "Application": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: app-{i}, namespace: argocd}}\n"
    "spec:\n  project: sophia\n  source: {{repoURL: https://github.com/x/y.git, targetRevision: main, path: ns-{n}}}\n"
    "  destination: {{server: https://kubernetes.default.svc, namespace: ns-{n}}}\n"
    "  syncPolicy: {{automated: {{prune: true, selfHeal: true}}}}\n",
    "ExternalSecret": "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: es-{i}, namespace: ns-{n}}}\n"
    "spec:\n  refreshInterval: 1h\n  secretStoreRef: {{name: vault, kind: ClusterSecretStore}}\n"
    "  target: {{name: es-{i}}}\n  data: [{{secretKey: k{i}, remoteRef: {{key: app/{i}, property: p}}}}]\n",
}


def generate(folder: Path, count: int, with_crds: bool) -> None:
    templates = {**TEMPLATES, **(CRD_TEMPLATES if with_crds else {})}
    kinds = sorted(templates)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        n = i % 20
        target = folder / f"ns-{n}" / f"{kind}-{i}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(templates[kind].format(i=i, n=n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--crds", default=os.environ.get("SOPHIA_CRDS"))
    parser.add_argument("--counts", default="1000,10000")
    args = parser.parse_args()
    for count in (int(c) for c in args.counts.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / ".git").mkdir()
            generate(root, count, bool(args.crds))
            for label, with_policy in (("schema only", False), ("schema + policy", True)):
                start = time.perf_counter()
                report = check_paths([str(root)], crd_catalog(Path(args.crds) if args.crds else None), policy=with_policy, repo_root=root)
                elapsed = time.perf_counter() - start
                print(
                    f"{count:>6} files  {label:<16} {elapsed:6.2f} s  {count / elapsed:8.0f} files/s  "
                    f"({report.summary()})"
                )


if __name__ == "__main__":
    main()
