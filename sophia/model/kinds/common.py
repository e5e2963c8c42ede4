"""What a Cluster and an Environment both say: the git source Argo CD reads, Argo CD's namespace,
Pulumi ESC."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
)

from sophia.model.kinds.fields import Model, Name, NamespaceName, _no_ip


class GitSource(Model):
    repo_url: Annotated[str, Field(pattern=r"^(https://|ssh://|git@)\S+$"), AfterValidator(_no_ip)] = Field(
        alias="repoURL", description="Git repository Argo CD syncs from."
    )
    target_revision: Annotated[str, Field(min_length=1)] = Field(description="Branch, tag or commit to sync.")
    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = Field(
        default="dist", description="Folder of the repository that holds dist/."
    )


class ArgoCD(Model):
    namespace: NamespaceName = Field(default="argocd", description="Namespace Argo CD runs in.")


class EscTokenSecret(Model):
    namespace: NamespaceName = Field(default="external-secrets", description="Bootstrap namespace of the token.")
    name: NamespaceName = Field(default="pulumi-esc-token", description="Secret created out of band (the only one).")
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$")] = Field(default="access-token", description="Key in it.")


class Esc(Model):
    organization: Name = Field(description="Pulumi organization.")
    project: Name = Field(default="default", description="Pulumi ESC project.")
    environment: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(description="Pulumi ESC environment.")
    token_secret: EscTokenSecret = Field(default_factory=EscTokenSecret, description="Where the access token lives.")
    refresh_interval: Annotated[str, Field(pattern=r"^[0-9]+(s|m|h)$")] = Field(
        default="1h", description="How often ExternalSecrets re-read ESC."
    )
