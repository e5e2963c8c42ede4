"""The building blocks of every definition: the base `Model`, `Metadata`, and the checked field types
(names, quantities, labels, ports, plain text without IP literals)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
)
from pydantic.alias_generators import to_camel

from sophia.values import DNS1035_LABEL as _DNS1035_LABEL
from sophia.values import DNS1123_LABEL as _DNS1123_LABEL
from sophia.values import DNS1123_SUBDOMAIN as _DNS1123_SUBDOMAIN
from sophia.values import ENV_NAME as _ENV_NAME
from sophia.values import ip_literals

API_VERSION = "sophia.ai/v1alpha1"

_CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$")

_MEMORY = re.compile(r"^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$")

_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
"""A Kubernetes qualified name: an optional DNS-1123 subdomain prefix and `/`, then at most 63 characters."""

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")

_CRON = re.compile(r"^(@(yearly|annually|monthly|weekly|daily|hourly)|(\S+\s+){4}\S+)$")


def _check(pattern: re.Pattern[str], what: str, max_len: int) -> Any:
    def check(value: str) -> str:
        if len(value) > max_len or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return AfterValidator(check)


def _limit(max_len: int, why: str) -> Any:
    """At most `max_len` characters, refused with the reason (which Kubernetes field the value becomes)."""

    def check(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"{value!r} is {len(value)} characters, more than {max_len}: {why}")
        return value

    return AfterValidator(check)


def _no_double_hyphen(value: str) -> str:
    if "--" in value:
        raise ValueError(f"{value!r} holds '--': a Kubernetes port name is an IANA service name, which may not")
    return value


def _no_ip(value: str) -> str:
    if ip_literals(value):
        raise ValueError(
            f"{value!r} holds an IP address; address machines by node labels and services by "
            "declared dependencies"
        )
    return value

Name = Annotated[
    str,
    _check(_DNS1035_LABEL, "name (lowercase letters, digits and '-', starting with a letter, at most 63)", 63),
]

NamespaceName = Annotated[str, _check(_DNS1123_LABEL, "Kubernetes namespace name (DNS-1123 label)", 63)]

PortName = Annotated[
    str, _check(_DNS1035_LABEL, "port name (lowercase, at most 15 characters)", 15), AfterValidator(_no_double_hyphen)
]

EnvName = Annotated[
    str,
    _check(_ENV_NAME, "environment variable name", 255),
    _limit(253, "sophia writes it as a key of a ConfigMap or Secret, and Kubernetes limits those keys to 253"),
]

Cpu = Annotated[str, _check(_CPU, "CPU quantity (for example 500m or 2)", 32)]

Memory = Annotated[str, _check(_MEMORY, "memory quantity (for example 512Mi or 4Gi)", 32)]

LabelKey = Annotated[str, _check(_LABEL_KEY, "label key", 253)]

LabelValue = Annotated[str, _check(_LABEL_VALUE, "label value", 63), AfterValidator(_no_ip)]

Hostname = Annotated[str, _check(_DNS1123_SUBDOMAIN, "host name", 253), AfterValidator(_no_ip)]

PlainText = Annotated[str, AfterValidator(_no_ip)]

PositiveInt = Annotated[StrictInt, Field(gt=0)]

NonNegativeInt = Annotated[StrictInt, Field(ge=0)]

Port = Annotated[StrictInt, Field(ge=1, le=65535)]

UrlScheme = Annotated[str, _check(re.compile(r"^[a-z][a-z0-9+.-]*$"), "URL scheme", 32)]

URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
"""A URL path a dependency may append (no query, no fragment)."""

GpuModel = Literal["GH200", "A100", "A6000", "A10", "RTX6000"]
"""The GPU models of the fleet. Anything else (an rtx-4090, say) is an error."""


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )


class Metadata(Model):
    name: Name = Field(description="Name of this definition (a DNS-1035 label).")
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, description="Free-form labels.")
