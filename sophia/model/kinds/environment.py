"""The `Environment` kind: what stays per environment (destination, namespaces, overrides, ESC,
LLM gateway, promotion)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from sophia.model.kinds.common import ArgoCD, Esc, GitSource
from sophia.model.kinds.fields import EnvName, Hostname, Metadata, Model, Name, NamespaceName, NonNegativeInt, PlainText
from sophia.model.kinds.pod import Metrics, PodAnnotations, PodLabels, TopologySpread
from sophia.model.kinds.service import ObjectPatch, WaivableRule
from sophia.model.kinds.service_parts import Autoscaling, Expose, Gpu, Placement, ResourceAmounts, Resources, Volume


class SecurityException(Model):
    service: Name = Field(description="The one service relaxed.")
    relax: list[Literal["readOnlyRootFilesystem", "runAsNonRoot", "seccompProfile", "capabilities"]] = Field(
        min_length=1, description="Which hardening settings are relaxed."
    )
    reason: Annotated[str, Field(min_length=10)] = Field(description="Why; shows in the output.")


class ServiceOverride(Model):
    """What an environment may change about a catalogue service."""

    enabled: StrictBool = Field(default=True, description="false leaves the service out of this environment.")
    replicas: NonNegativeInt | None = Field(default=None, description="Replicas here.")
    autoscaling: Autoscaling | None = Field(default=None, description="Autoscaling bounds here.")
    topology_spread: TopologySpread | None = Field(
        default=None, description="Spread of the replicas over the pool's nodes here (the pool and replicas are per environment)."
    )
    resources: Resources | None = Field(default=None, description="Requests and limits here.")
    env: dict[EnvName, PlainText] = Field(default_factory=dict, description="Env values added or replaced here.")
    pod_labels: PodLabels = Field(default_factory=dict, description="Pod labels added or replaced here.")
    pod_annotations: PodAnnotations = Field(default_factory=dict, description="Pod annotations added or replaced here.")
    placement: Placement | None = Field(default=None, description="Node pool here.")
    volumes: dict[Name, Volume] | None = Field(default=None, description="Volume sizes here.")
    expose: Expose | None = Field(default=None, description="Ingress host here.")
    gpu: Gpu | None = Field(default=None, description="GPU models acceptable here.")
    metrics: Metrics | None = Field(default=None, description="Prometheus metrics port and path here.")
    waivers: dict[WaivableRule, Annotated[str, Field(min_length=10)]] = Field(
        default_factory=dict, description="Policy rules waived here too, each with the reason."
    )
    patches: list[ObjectPatch] = Field(
        default_factory=list, description="Patches applied here, after the catalogue's (RFC 6902 on generated objects)."
    )

LlmProvider = Literal["openrouter", "openai", "anthropic", "groq", "mistral-ai", "together-ai", "perplexity-ai"]


class LlmTarget(Model):
    provider: LlmProvider = Field(description="Provider; its key is read from ESC at llm.<provider>.api_key.")
    model: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_./:-]+$")] | None = Field(
        default=None, description="Model to force for this target (override_params.model)."
    )
    weight: Annotated[float, Field(gt=0, le=1)] | None = Field(default=None, description="Share of traffic (loadbalance).")


class LlmRetry(Model):
    attempts: Annotated[StrictInt, Field(ge=0, le=5)] = Field(default=2, description="Retries per request.")
    on_status_codes: list[Annotated[StrictInt, Field(ge=400, le=599)]] = Field(
        default_factory=lambda: [429, 500, 502, 503, 504], description="Status codes that are retried."
    )


class LlmRouting(Model):
    strategy: Literal["fallback", "loadbalance", "single"] = Field(description="How targets are used.")
    targets: list[LlmTarget] = Field(min_length=1, description="Providers, in order (fallback) or weighted.")
    retry: LlmRetry = Field(default_factory=LlmRetry, description="Retries before falling back.")

    @model_validator(mode="after")
    def _shape(self) -> LlmRouting:
        if self.strategy == "single" and len(self.targets) != 1:
            raise ValueError("strategy single takes exactly one target")
        if self.strategy == "fallback" and len(self.targets) < 2:
            raise ValueError("strategy fallback needs at least two targets")
        if self.strategy == "loadbalance" and any(t.weight is None for t in self.targets):
            raise ValueError("strategy loadbalance needs a weight on every target")
        if self.strategy != "loadbalance" and any(t.weight is not None for t in self.targets):
            raise ValueError("weights are only for strategy loadbalance")
        providers = [t.provider + (t.model or "") for t in self.targets]
        if len(set(providers)) != len(providers):
            raise ValueError("the same provider and model appear twice among the targets")
        return self


class LlmGateway(Model):
    application: Name = Field(description="Application (namespace key) the gateway runs in.")
    placement: Placement = Field(description="Node pool of the gateway.")
    autoscaling: Autoscaling = Field(
        default_factory=lambda: Autoscaling(min_replicas=2, max_replicas=4), description="Replica bounds."
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(
            requests=ResourceAmounts(cpu="250m", memory="256Mi"), limits=ResourceAmounts(cpu="1", memory="512Mi")
        ),
        description="Requests and limits of the gateway container.",
    )
    routing: LlmRouting = Field(description="Routing among providers.")


class Tls(Model):
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] = Field(description="ACME account e-mail.")
    acme: Literal["production", "staging"] = Field(default="production", description="Let's Encrypt server to use.")

CommitSha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
"""A full git commit id: a revision that never moves."""


DeployBranch = Annotated[str, Field(
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*)*$", max_length=200,
)]
"""A git branch name, kept to plain characters: components of letters, digits, `_`, `-` and single dots."""


class Promotion(Model):
    """This environment runs what another one tested: its Applications track the deploy branch, which
    the `promote` workflow sets to `revision` plus a commit pinning each child Application to it.

    So everything of the environment -- its Applications, AppProject, sync waves and manifests --
    is dist/ as of `revision`: a change merged to main reaches it only when promoted. What main holds
    beyond `revision` is pending (`sophia diff --pending`). `revision` and `history` are edited by
    `sophia promote` and `sophia rollback` and reviewed like any change; the branch only follows them.
    """

    from_: Name = Field(alias="from", description="The environment whose tested revision and images this one takes.")
    revision: CommitSha = Field(description="The commit whose dist/ this environment runs (its deploy branch points at it).")
    history: list[CommitSha] = Field(
        default_factory=list, max_length=20,
        description="Earlier promoted revisions, newest first (`sophia rollback` returns to the first).",
    )
    branch: DeployBranch | None = Field(
        default=None,
        description="The branch this environment's Applications track, moved to `revision` by the promote "
        "workflow (default: deploy/<environment>).",
    )

    def deploy_branch(self, environment: str) -> str:
        """The branch the environment's Applications track."""
        return self.branch or f"deploy/{environment}"


class EnvironmentSpec(Model):
    release: Name = Field(description="Release (image versions) this environment runs.")
    cluster: Name = Field(description="Cluster (by name, never by address) it deploys to.")
    source: GitSource = Field(description="Where Argo CD reads dist/ from.")
    promotion: Promotion | None = Field(
        default=None,
        description="Promoted from another environment: its Applications track a deploy branch set to "
        "`promotion.revision`, not `source.targetRevision`.",
    )
    argocd: ArgoCD = Field(default_factory=ArgoCD, description="Argo CD settings.")
    namespaces: dict[Name, NamespaceName] = Field(
        min_length=1, description="Namespace of each application of the catalogue."
    )
    domain: Hostname | None = Field(default=None, description="DNS domain exposed hosts live under.")
    tls: Tls | None = Field(default=None, description="Certificates for exposed hosts (cert-manager ClusterIssuer).")
    services: dict[Name, ServiceOverride] = Field(
        default_factory=dict, description="Per-environment overrides of catalogue services."
    )
    exceptions: list[SecurityException] = Field(
        default_factory=list, description="Named, reasoned relaxations of pod hardening."
    )
    esc: Esc | None = Field(default=None, description="Pulumi ESC environment the secrets come from.")
    llm_gateway: LlmGateway | None = Field(default=None, description="The Portkey LLM gateway, if any.")


class Environment(Model):
    api_version: Literal["sophia.ai/v1alpha1"]
    kind: Literal["Environment"]
    metadata: Metadata
    spec: EnvironmentSpec
