"""podLabels and podAnnotations: on the pods only (never the selector), added to per environment,
refused where they would collide with sophia's own or where Kubernetes would refuse them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pod_fixture import compiled, errors, pod

from sophia.constructs._base import recommended_labels
from sophia.model.models import SOPHIA_LABELS

API = "staging/apps/Deployment-api.yaml"
LABELS = "      podLabels: {team: platform}\n"
ANNOTATIONS = "      podAnnotations: {example.com/owner: platform-team}\n"


def test_extra_labels_and_annotations_reach_the_pods_and_not_the_selector() -> None:
    deployment = compiled(API)
    meta = pod(deployment)["metadata"]
    assert meta["labels"]["team"] == "platform"
    assert meta["labels"]["tier"] == "frontend", "added by staging.yaml"
    assert meta["annotations"] == {
        "example.com/owner": "platform-team",
        "example.com/on-call": "api-team",  # staging.yaml's
        "sophia.ai/config-hash": meta["annotations"]["sophia.ai/config-hash"],
    }
    assert set(deployment["spec"]["selector"]["matchLabels"]) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
    assert "team" not in deployment["metadata"]["labels"], "the pods', not the Deployment's"


def test_the_labels_sophia_sets_are_the_ones_pod_labels_may_not_set() -> None:
    assert set(recommended_labels(name="n", component="c", instance="i", version="v")) == set(SOPHIA_LABELS)


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(
        ("catalog.yaml", LABELS, "      podLabels: {app.kubernetes.io/name: web}\n"),
        "environments/catalog.yaml:50: spec.services.api.podLabels.app.kubernetes.io/name: sophia sets this label itself "
        "(its own app.kubernetes.io/name, app.kubernetes.io/instance, app.kubernetes.io/version, "
        "app.kubernetes.io/component, app.kubernetes.io/part-of, app.kubernetes.io/managed-by and sophia.ai/*)",
        id="recommended-label",
    ),
    pytest.param(
        ("catalog.yaml", LABELS, "      podLabels: {sophia.ai/pool: general}\n"),
        "environments/catalog.yaml:50: spec.services.api.podLabels.sophia.ai/pool: sophia sets this label itself "
        "(its own app.kubernetes.io/name, app.kubernetes.io/instance, app.kubernetes.io/version, "
        "app.kubernetes.io/component, app.kubernetes.io/part-of, app.kubernetes.io/managed-by and sophia.ai/*)",
        id="sophia-label",
    ),
    pytest.param(
        ("staging.yaml", "      podAnnotations: {example.com/on-call: api-team}\n",
         "      podAnnotations: {sophia.ai/config-hash: pinned}\n"),
        "environments/staging.yaml:15: spec.services.api.podAnnotations.sophia.ai/config-hash: annotations under "
        "sophia.ai/ are sophia's own",
        id="sophia-annotation",
    ),
    pytest.param(
        ("catalog.yaml", LABELS, "      podLabels: {team: platform team}\n"),
        "environments/catalog.yaml:50: spec.services.api.podLabels.team: 'platform team' is not a valid label value",
        id="label-value",
    ),
    pytest.param(
        ("catalog.yaml", LABELS, "      podLabels: {team: " + "t" * 64 + "}\n"),
        f"environments/catalog.yaml:50: spec.services.api.podLabels.team: '{'t' * 64}' is not a valid label value",
        id="label-value-length",
    ),
    pytest.param(
        ("catalog.yaml", LABELS, "      podLabels: {-team: platform}\n"),
        "environments/catalog.yaml:50: spec.services.api.podLabels.-team: '-team' is not a valid label key",
        id="label-key",
    ),
    pytest.param(
        ("catalog.yaml", ANNOTATIONS, "      podAnnotations: {example.com/: x}\n"),
        "environments/catalog.yaml:51: spec.services.api.podAnnotations.example.com/: 'example.com/' is not a valid "
        "annotation key (an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.')",
        id="annotation-key",
    ),
    pytest.param(
        ("catalog.yaml", ANNOTATIONS, "      podAnnotations: {example.com/blob: " + "x" * (256 * 1024) + "}\n"),
        "environments/catalog.yaml:51: spec.services.api.podAnnotations: they hold 262160 bytes, more than the 262144 "
        "Kubernetes allows an object's annotations (keys and values together)",
        id="annotations-too-large",
    ),
])
def test_colliding_or_invalid_pod_metadata_is_refused(tmp_path: Path, edit: tuple[str, str, str], expected: str) -> None:
    assert errors(tmp_path, edit) == expected


def test_annotation_keys_may_hold_capitals_as_kubernetes_allows(tmp_path: Path) -> None:
    from pod_fixture import compile_copy

    out = compile_copy(tmp_path, ("catalog.yaml", ANNOTATIONS, "      podAnnotations: {Example.com/Owner: platform-team}\n"))
    assert pod(out[API])["metadata"]["annotations"]["Example.com/Owner"] == "platform-team"
