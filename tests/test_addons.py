"""Cluster add-ons: the Applications under dist/clusters/<cluster>/argocd/, their sync waves, and the
Secrets they read from Pulumi ESC."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import needs_crds, pinned_crds

from sophia.errors import SpecError
from sophia.model.loader import load
from sophia.pipeline import compile_tree

ROOT = Path(__file__).resolve().parents[1]
BASIC = ROOT / "tests/fixtures/envs/basic"
CLUSTER_ARGOCD = "clusters/sophia-k3s/argocd"
WAVE = "argocd.argoproj.io/sync-wave"


def _dist() -> dict[str, Any]:
    return {p.relative_to(ROOT / "dist").as_posix(): yaml.safe_load(p.read_text()) for p in (ROOT / "dist").rglob("*.yaml")}


def _waves(dist: dict[str, Any]) -> dict[str, int]:
    """The sync wave of every cluster Application, by name."""
    return {o["metadata"]["name"]: int(o["metadata"]["annotations"][WAVE])
            for p, o in dist.items() if p.startswith(f"{CLUSTER_ARGOCD}/Application-")}


def _copy(tmp_path: Path, source: Path = BASIC) -> Path:
    root = tmp_path / "environments"
    shutil.copytree(source, root)
    return root


def _edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def _errors(root: Path) -> str:
    with pytest.raises(SpecError) as info:
        load(root)
    return info.value.render()


def test_the_runtime_class_syncs_before_every_addon() -> None:
    """GPU add-ons' pods name `runtimeClassName: nvidia`; the API server refuses them until the RuntimeClass
    exists, and the cluster root waits for each wave to be healthy, so the RuntimeClass comes first."""
    waves = _waves(_dist())
    runtime = waves["cluster-sophia-k3s-runtime"]
    addons = {name: wave for name, wave in waves.items() if name.startswith("addon-")}
    assert addons and all(runtime < wave for wave in addons.values()), (runtime, addons)


ADDON = """\
  addons:
    extra:
      release: v1.0.0
      chart: {repo: https://charts.example.org, name: extra, version: 1.0.0}
      namespace: extra
      wave: WAVE
"""


@pytest.mark.parametrize(("wave", "expected"), [
    pytest.param("-35", "environments/cluster.yaml:11: spec.addons.extra.wave: Input should be greater than or equal to -34",
                 id="with-the-runtime-class"),
    pytest.param("-20", "environments/cluster.yaml:11: spec.addons.extra.wave: Input should be less than or equal to -21",
                 id="after-the-addons"),
])
def test_addon_waves_stay_between_the_runtime_class_and_the_environments(tmp_path: Path, wave: str, expected: str) -> None:
    root = _copy(tmp_path)
    _edit(root, "cluster.yaml", "  nodePools:\n", ADDON.replace("WAVE", wave) + "  nodePools:\n")
    assert expected in _errors(root)


WITH_SECRETS = """\
  source: {repoURL: "https://git.example.com/platform.git", targetRevision: main}
  esc: {organization: example-org, environment: platform-cluster}
  addons:
    external-secrets:
      release: v2.9.0
      chart: {repo: "https://charts.external-secrets.io", name: external-secrets, version: 2.9.0}
      namespace: external-secrets
      crds: {groups: [external-secrets.io]}
    alerting:
      release: v1.0.0
      chart: {repo: "https://charts.example.org", name: alerting, version: 1.0.0}
      namespace: monitoring
      wave: -22
      secrets:
        alerting-config:
          data: {webhook_url: slack.webhook_url}
          template:
            config.yaml: |
              receiver: {url: '{{ .webhook_url }}'}
        alerting-admin:
          data: {password: alerting.admin_password}
"""
"""The basic fixture's cluster, synced by Argo CD, with External Secrets and an add-on reading two Secrets."""


def _with_secrets(root: Path) -> None:
    _edit(root, "cluster.yaml", "  nodePools:\n", WITH_SECRETS + "  nodePools:\n")


def test_addon_secrets_are_external_secrets_from_the_clusters_esc(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _with_secrets(root)
    out = {p: yaml.safe_load(t) for p, t in compile_tree(root).items() if p.startswith("clusters/")}
    folder = "clusters/test-cluster/secrets"
    assert sorted(p for p in out if p.startswith(folder)) == [
        f"{folder}/ClusterSecretStore-pulumi-esc-cluster-test-cluster.yaml",
        f"{folder}/ExternalSecret-alerting-admin.yaml",
        f"{folder}/ExternalSecret-alerting-config.yaml",
    ]
    store = out[f"{folder}/ClusterSecretStore-pulumi-esc-cluster-test-cluster.yaml"]["spec"]
    assert store["conditions"] == [{"namespaces": ["monitoring"]}], "only the namespaces of the add-ons that read secrets"
    assert store["provider"]["pulumi"]["environment"] == "platform-cluster"
    config = out[f"{folder}/ExternalSecret-alerting-config.yaml"]
    assert config["metadata"]["namespace"] == "monitoring"
    assert "SOPHIA-NET-002" in "".join(config["metadata"]["annotations"]), "an add-on's namespace has no default-deny of sophia's"
    assert config["spec"] == {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "pulumi-esc-cluster-test-cluster"},
        "target": {"name": "alerting-config", "creationPolicy": "Owner", "deletionPolicy": "Retain",
                   "template": {"engineVersion": "v2", "data": {"config.yaml": "receiver: {url: '{{ .webhook_url }}'}\n"}}},
        "data": [{"secretKey": "webhook_url", "remoteRef": {"key": "slack.webhook_url"}}],
    }
    admin = out[f"{folder}/ExternalSecret-alerting-admin.yaml"]["spec"]
    assert "template" not in admin["target"]
    assert admin["data"] == [{"secretKey": "password", "remoteRef": {"key": "alerting.admin_password"}}]
    app = out["clusters/test-cluster/argocd/Application-cluster-test-cluster-secrets.yaml"]
    assert app["spec"]["source"]["path"] == "dist/clusters/test-cluster/secrets"
    assert app["spec"]["destination"]["namespace"] == "external-secrets"
    waves = {o["metadata"]["name"]: int(o["metadata"]["annotations"][WAVE]) for p, o in out.items() if o["kind"] == "Application"}
    assert waves["addon-external-secrets"] < waves["cluster-test-cluster-secrets"] < waves["addon-alerting"]
    project = out["clusters/test-cluster/argocd/AppProject-cluster-test-cluster.yaml"]["spec"]
    assert {"group": "external-secrets.io", "kind": "ClusterSecretStore"} in project["clusterResourceWhitelist"]


SLACK_HOOK = "https://hooks.slack.com/services/T01ABCDEFGH/B01ABCDEFGH/abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("  esc: {organization: example-org, environment: platform-cluster}\n", "",
                 "environments/cluster.yaml:18: spec.addons.alerting.secrets: add-on 'alerting' reads secrets from ESC but "
                 "the cluster names no ESC environment\n    hint: set spec.esc (organization, environment) in the Cluster file",
                 id="no-esc"),
    pytest.param("      crds: {groups: [external-secrets.io]}\n", "",
                 "environments/cluster.yaml:18: spec.addons.alerting.secrets: add-on 'alerting' reads secrets through External "
                 "Secrets, but no add-on installs its CRDs\n"
                 "    hint: add External Secrets as an add-on with crds: {groups: [external-secrets.io]}",
                 id="no-external-secrets"),
    pytest.param("          data: {webhook_url: slack.webhook_url}\n", "          data: {webhook-url: slack.webhook_url}\n",
                 "environments/cluster.yaml:20: spec.addons.alerting.secrets.alerting-config: with a template, the template "
                 "reads 'webhook-url' as {{ .webhook-url }}: name it with letters, digits and '_' only",
                 id="template-name-with-a-dash"),
    pytest.param("          data: {password: alerting.admin_password}\n", "          data: {password: Alerting-Admin}\n",
                 "environments/cluster.yaml:26: spec.addons.alerting.secrets.alerting-admin.data.password: String should "
                 "match pattern", id="data-is-an-esc-path"),
    pytest.param("              receiver: {url: '{{ .webhook_url }}'}\n", f"              receiver: {{url: '{SLACK_HOOK}'}}\n",
                 "environments/cluster.yaml:23: spec.addons.alerting.secrets.alerting-config.template.config.yaml: secret "
                 'literal: "config.yaml" looks like a secret (Slack Token)\n'
                 "    hint: secrets live in Pulumi ESC: add `<name>: <system>.<field>` to this Secret's data and write "
                 "`{{ .<name> }}` here", id="secret-in-a-template"),
    pytest.param("        alerting-admin:\n", "        alerting-config-copy:\n",
                 None, id="another-name-is-fine"),
])
def test_addon_secret_errors(tmp_path: Path, old: str, new: str, expected: str | None) -> None:
    root = _copy(tmp_path)
    _with_secrets(root)
    _edit(root, "cluster.yaml", old, new)
    if expected is None:
        load(root)
    else:
        assert expected in _errors(root)


def test_a_secret_name_is_declared_once_in_the_cluster(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _with_secrets(root)
    _edit(root, "cluster.yaml", "      crds: {groups: [external-secrets.io]}\n",
          "      crds: {groups: [external-secrets.io]}\n"
          "      secrets:\n        alerting-admin:\n          data: {password: eso.admin_password}\n")
    assert ("environments/cluster.yaml:15: spec.addons.external-secrets.secrets.alerting-admin: Secret 'alerting-admin' is "
            "also declared by add-on 'alerting'\n"
            "    hint: the cluster's ExternalSecrets share one folder: give each Secret its own name") in _errors(root)


@needs_crds
def test_addon_secrets_are_valid_against_the_pinned_external_secrets_release(tmp_path: Path) -> None:
    from sophia.validate import validate_paths

    root = _copy(tmp_path)
    _with_secrets(root)
    out = tmp_path / "dist"
    for path, text in compile_tree(root).items():
        if path.startswith("clusters/"):
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            (out / path).write_text(text)
    report = validate_paths([out / "clusters/test-cluster/secrets"], pinned_crds(root))
    assert report.ok and len(report.resources) == 3, report.summary()


# ---------------------------------------------------------------------------------------------
# The real platform: the monitoring add-ons, Argo CD's notifications, and their Secrets


def _app(dist: dict[str, Any], name: str) -> dict[str, Any]:
    return dist[f"{CLUSTER_ARGOCD}/Application-{name}.yaml"]  # type: ignore[no-any-return]


def _values(dist: dict[str, Any], addon: str) -> dict[str, Any]:
    return _app(dist, f"addon-{addon}")["spec"]["source"]["helm"]["valuesObject"]  # type: ignore[no-any-return]


def test_monitoring_addons_are_pinned_and_ordered() -> None:
    dist = _dist()
    waves = _waves(dist)
    crds = _app(dist, "addon-prometheus-operator-crds")["spec"]["source"]
    assert (crds["repoURL"], crds["path"], crds["targetRevision"]) == (
        "https://github.com/prometheus-operator/prometheus-operator.git", "example/prometheus-operator-crd-full", "v0.89.0")
    charts = {name: _app(dist, f"addon-{name}")["spec"]["source"] for name in ("kube-prometheus-stack", "loki", "alloy", "dcgm-exporter")}
    assert {name: (s["chart"], s["targetRevision"]) for name, s in charts.items()} == {
        "kube-prometheus-stack": ("kube-prometheus-stack", "82.15.1"),
        "loki": ("loki", "6.29.0"),
        "alloy": ("alloy", "0.12.5"),
        "dcgm-exporter": ("dcgm-exporter", "4.1.3"),
    }
    assert {_app(dist, f"addon-{n}")["spec"]["destination"]["namespace"] for n in charts} == {"monitoring"}
    # CRDs first; the Secrets right after External Secrets and before the stack that reads them; the
    # log shipper after Loki; the GPU exporter (a ServiceMonitor) after the CRDs, under the nvidia runtime.
    assert waves["addon-prometheus-operator-crds"] < waves["addon-kube-prometheus-stack"]
    assert waves["addon-external-secrets"] < waves["cluster-sophia-k3s-secrets"] < waves["addon-kube-prometheus-stack"]
    assert waves["addon-loki"] < waves["addon-alloy"]
    assert waves["cluster-sophia-k3s-runtime"] < waves["addon-prometheus-operator-crds"] < waves["addon-dcgm-exporter"]


def test_kube_prometheus_stack_matches_the_crds_and_selects_everything() -> None:
    dist = _dist()
    values = _values(dist, "kube-prometheus-stack")
    release = _app(dist, "addon-prometheus-operator-crds")["spec"]["source"]["targetRevision"]
    assert values["crds"] == {"enabled": False}, "the CRDs come from prometheus-operator-crds, at the exact release"
    operator = values["prometheusOperator"]
    assert operator["image"]["tag"] == operator["prometheusConfigReloader"]["image"]["tag"] == release
    spec = values["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "probe", "scrapeConfig", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind
        assert f"{kind}Selector" not in spec and f"{kind}NamespaceSelector" not in spec, "empty selectors: every object"
    [argocd] = values["prometheus"]["additionalServiceMonitors"]
    assert argocd["namespaceSelector"] == {"matchNames": ["argocd"]}
    assert argocd["selector"] == {"matchLabels": {"app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/component": "metrics"}}


def test_grafana_and_alertmanager_read_secrets_from_esc() -> None:
    dist = _dist()
    values = _values(dist, "kube-prometheus-stack")
    secrets = {p.rsplit("/", 1)[1]: o for p, o in dist.items() if p.startswith("clusters/sophia-k3s/secrets/")}
    grafana = secrets[f"ExternalSecret-{values['grafana']['admin']['existingSecret']}.yaml"]
    assert grafana["metadata"]["namespace"] == "monitoring"
    assert set(grafana["spec"]["target"]["template"]["data"]) == {"admin-user", "admin-password"}, "the grafana chart's default keys"
    assert grafana["spec"]["data"] == [{"secretKey": "admin_password", "remoteRef": {"key": "grafana.admin_password"}}]
    manager = values["alertmanager"]["alertmanagerSpec"]
    assert manager["useExistingSecret"] is True
    config = secrets[f"ExternalSecret-{manager['configSecret']}.yaml"]
    assert config["metadata"]["namespace"] == "monitoring"
    assert config["spec"]["data"] == [{"secretKey": "slack_webhook_url", "remoteRef": {"key": "slack.webhook_url"}}]
    alertmanager = yaml.safe_load(config["spec"]["target"]["template"]["data"]["alertmanager.yaml"])
    assert alertmanager["route"]["receiver"] == "slack"
    [slack] = [r for r in alertmanager["receivers"] if r["name"] == "slack"]
    assert slack["slack_configs"] == [{"api_url": "{{ .slack_webhook_url }}", "send_resolved": True}]
    store = secrets["ClusterSecretStore-pulumi-esc-cluster-sophia-k3s.yaml"]["spec"]
    assert store["conditions"] == [{"namespaces": ["argocd", "monitoring"]}]
    assert store["provider"]["pulumi"]["environment"] == "sophia-ai-platform"


def test_argo_cd_notifies_slack_through_a_webhook_from_esc() -> None:
    dist = _dist()
    source = _app(dist, "addon-argo-cd")["spec"]["source"]
    patches = {(p.get("target") or {}).get("name") or yaml.safe_load(p["patch"])["metadata"]["name"]: yaml.safe_load(p["patch"])
               for p in source["kustomize"]["patches"]}
    assert patches["argocd-notifications-secret"] == {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argocd-notifications-secret"}, "$patch": "delete",
    }, "the install manifests' empty Secret goes, so that External Secrets owns it alone"
    data = patches["argocd-notifications-cm"]["data"]
    service = yaml.safe_load(data["service.webhook.slack"])
    secret = dist["clusters/sophia-k3s/secrets/ExternalSecret-argocd-notifications-secret.yaml"]
    assert secret["metadata"]["namespace"] == "argocd"
    keys = {d["secretKey"]: d["remoteRef"]["key"] for d in secret["spec"]["data"]}
    assert service["url"] == "$slack-webhook-url" and keys == {"slack-webhook-url": "slack.webhook_url"}
    triggers = {name: yaml.safe_load(data[f"trigger.{name}"]) for name in ("on-sync-failed", "on-health-degraded")}
    assert triggers["on-health-degraded"] == [{"when": "app.status.health.status == 'Degraded'", "send": ["app-health-degraded"]}]
    assert "phase in ['Error', 'Failed']" in triggers["on-sync-failed"][0]["when"]
    for trigger in triggers.values():
        [template] = trigger[0]["send"]
        body = yaml.safe_load(data[f"template.{template}"])["webhook"]["slack"]
        assert body["method"] == "POST" and '"text"' in body["body"]
    assert yaml.safe_load(data["subscriptions"]) == [{"recipients": ["slack"], "triggers": ["on-sync-failed", "on-health-degraded"]}]


def test_the_gpu_exporter_runs_on_the_gpu_pools_only() -> None:
    dist = _dist()
    values = _values(dist, "dcgm-exporter")
    cluster = load(ROOT / "environments").environments["production"].cluster
    gpu_pools = sorted(n for n, pool in cluster.spec.node_pools.items() if pool.gpu)
    [term] = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "sophia.ai/pool", "operator": "In", "values": gpu_pools}]
    assert values["runtimeClassName"] == "nvidia"
    taints = {(t.key, t.effect) for n in gpu_pools for t in cluster.spec.node_pools[n].taints}
    assert taints <= {(t["key"], t["effect"]) for t in values["tolerations"] if t["operator"] == "Exists"}
    assert values["serviceMonitor"]["enabled"] is True
    assert values["image"]["tag"].startswith(cluster.spec.addons["dcgm-exporter"].release + "-"), "the release, pinned"


def test_every_pod_log_goes_to_loki() -> None:
    dist = _dist()
    alloy = _values(dist, "alloy")
    assert alloy["controller"] == {"type": "daemonset", "tolerations": [{"operator": "Exists"}]}
    config = alloy["alloy"]["configMap"]["content"]
    loki = _values(dist, "loki")
    assert (loki["deploymentMode"], loki["loki"]["storage"]["type"]) == ("SingleBinary", "filesystem")
    assert f'url = "http://{loki["fullnameOverride"]}.monitoring.svc.cluster.local:3100/loki/api/v1/push"' in config
    assert 'loki.source.kubernetes "pods"' in config and 'sys.env("NODE_NAME")' in config


def test_adding_a_helm_addon_is_an_edit_of_the_cluster_file_only(tmp_path: Path) -> None:
    root = _copy(tmp_path, ROOT / "environments")
    _edit(root, "clusters/sophia-k3s.yaml", "  nodePools:\n", """\
    metrics-server:
      # a chart/app match that could not be verified offline
      release: v0.8.0
      chart: {repo: https://kubernetes-sigs.github.io/metrics-server, name: metrics-server, version: 3.13.0}
      namespace: kube-metrics
      values:
        args: [--kubelet-preferred-address-types=InternalIP]
  nodePools:
""")
    before = {p for p in compile_tree(ROOT / "environments")}
    after = compile_tree(root)
    assert sorted(set(after) - before) == [f"{CLUSTER_ARGOCD}/Application-addon-metrics-server.yaml"]
    app = yaml.safe_load(after[f"{CLUSTER_ARGOCD}/Application-addon-metrics-server.yaml"])
    assert app["spec"]["source"] == {
        "repoURL": "https://kubernetes-sigs.github.io/metrics-server", "chart": "metrics-server", "targetRevision": "3.13.0",
        "helm": {"releaseName": "addon-metrics-server", "valuesObject": {"args": ["--kubelet-preferred-address-types=InternalIP"]}},
    }
    assert app["spec"]["destination"] == {"name": "sophia-k3s", "namespace": "kube-metrics"}
    project = yaml.safe_load(after[f"{CLUSTER_ARGOCD}/AppProject-cluster-sophia-k3s.yaml"])["spec"]
    assert "https://kubernetes-sigs.github.io/metrics-server" in project["sourceRepos"]
    assert {"name": "sophia-k3s", "namespace": "kube-metrics"} in project["destinations"]


PRIORITY = """\
    scheduler-extras:
      release: v1.0.0
      chart: {repo: https://charts.example.org, name: scheduler-extras, version: 1.0.0}
      namespace: scheduler-extras
      clusterResources:
        - {group: scheduling.k8s.io, kind: PriorityClass}
        - {group: storage.k8s.io, kind: StorageClass}
        - {group: rbac.authorization.k8s.io, kind: ClusterRole}
        - {group: scheduling.k8s.io, kind: PriorityClass}
  nodePools:
"""


def test_an_addons_cluster_wide_kinds_are_an_edit_of_the_cluster_file_only(tmp_path: Path) -> None:
    """A chart that creates a PriorityClass or a StorageClass: its entry lists them, and the cluster's AppProject
    allows them (sorted, each once), so that Argo CD syncs them; no code change."""
    root = _copy(tmp_path, ROOT / "environments")
    _edit(root, "clusters/sophia-k3s.yaml", "  nodePools:\n", PRIORITY)
    before = yaml.safe_load(compile_tree(ROOT / "environments")[f"{CLUSTER_ARGOCD}/AppProject-cluster-sophia-k3s.yaml"])
    after = yaml.safe_load(compile_tree(root)[f"{CLUSTER_ARGOCD}/AppProject-cluster-sophia-k3s.yaml"])
    kinds = [(k["group"], k["kind"]) for k in after["spec"]["clusterResourceWhitelist"]]
    assert kinds == sorted(set(kinds)), "sorted, each once"
    assert set(kinds) - {(k["group"], k["kind"]) for k in before["spec"]["clusterResourceWhitelist"]} == {
        ("scheduling.k8s.io", "PriorityClass"), ("storage.k8s.io", "StorageClass")}
    assert ("nfd.k8s-sigs.io", "NodeFeatureRule") in kinds, "the NVIDIA add-on's own entry lists it"


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("{group: storage.k8s.io, kind: StorageClass}", "{group: Storage.k8s.io, kind: StorageClass}",
                 "environments/clusters/sophia-k3s.yaml:{line}: spec.addons.scheduler-extras.clusterResources[1].group: "
                 "'Storage.k8s.io' is not a valid API group", id="group-not-a-dns-subdomain"),
    pytest.param("{group: storage.k8s.io, kind: StorageClass}", "{group: storage.k8s.io, kind: storageclass}",
                 "environments/clusters/sophia-k3s.yaml:{line}: spec.addons.scheduler-extras.clusterResources[1].kind: "
                 "'storageclass' is not a valid kind", id="kind-not-camel-case"),
    pytest.param("{group: storage.k8s.io, kind: StorageClass}", "{kind: StorageClass}",
                 "environments/clusters/sophia-k3s.yaml:{line}: spec.addons.scheduler-extras.clusterResources[1].group: "
                 "required field is", id="group-required"),
    pytest.param("{group: storage.k8s.io, kind: StorageClass}", "{group: storage.k8s.io, kind: '*'}",
                 "environments/clusters/sophia-k3s.yaml:{line}: spec.addons.scheduler-extras.clusterResources[1].kind: "
                 "'*' is not a valid kind", id="no-wildcard"),
    pytest.param("{group: storage.k8s.io, kind: StorageClass}", "{group: '', kind: PersistentVolume}", None, id="core-group"),
])
def test_cluster_resources_errors_are_located(tmp_path: Path, old: str, new: str, expected: str | None) -> None:
    root = _copy(tmp_path, ROOT / "environments")
    _edit(root, "clusters/sophia-k3s.yaml", "  nodePools:\n", PRIORITY)
    _edit(root, "clusters/sophia-k3s.yaml", old, new)
    if expected is None:
        load(root)
        return
    line = (root / "clusters/sophia-k3s.yaml").read_text().splitlines().index(f"        - {new}") + 1
    assert expected.format(line=line) in _errors(root)
