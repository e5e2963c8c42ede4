"""The shared value rules (`sophia.values`): which strings hold an IP address, which passwords are weak,
what a quantity is worth, which strings are names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sophia.values import (
    DNS1035_LABEL,
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    ENV_NAME,
    IMAGE_REPOSITORY,
    IMAGE_TAG,
    host_ips,
    ip_literals,
    is_sensitive,
    is_weak_password,
    memory_bytes,
    millicores,
    parse_quantity,
    quantity_or_none,
    replace_ipv4,
)


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        pytest.param("10.0.0.1", ["10.0.0.1"], id="bare"),
        pytest.param("http://10.0.0.1:8080/x", ["10.0.0.1"], id="url"),
        pytest.param("redis://user:pw@10.1.2.3:6379/0", ["10.1.2.3"], id="url-with-credentials"),
        pytest.param("--host=192.168.1.5", ["192.168.1.5"], id="flag"),
        pytest.param("10.0.0.1,10.0.0.2", ["10.0.0.1", "10.0.0.2"], id="list"),
        pytest.param("it runs at 10.0.0.1.", ["10.0.0.1"], id="end-of-sentence"),
        pytest.param("10.0.0.0/8", ["10.0.0.0"], id="network-range"),
        pytest.param("010.000.000.001", ["010.000.000.001"], id="leading-zeros"),
        pytest.param("0.0.0.0:8000", ["0.0.0.0"], id="unspecified-v4"),
        pytest.param("[::1]:8080", ["::1"], id="v6-loopback-bracketed"),
        pytest.param("fe80::1", ["fe80::1"], id="v6-link-local"),
        pytest.param("http://[2001:db8::8a2e:370:7334]/", ["2001:db8::8a2e:370:7334"], id="v6-url"),
        pytest.param("--bind=::", ["::"], id="unspecified-v6"),
        pytest.param("v1.2.3.4", [], id="version-with-v"),
        pytest.param("build-1.2.3.4", [], id="version-after-hyphen"),
        pytest.param("1.2.3.4-rc1", [], id="version-before-hyphen"),
        pytest.param("1.2.3.4.5", [], id="five-parts"),
        pytest.param("x10.0.0.1", [], id="glued-to-a-word"),
        pytest.param("10.0.0.1-10.0.0.9", [], id="hyphen-range-not-seen"),
        pytest.param("999.1.1.1", [], id="number-over-255"),
        pytest.param("1.2.3", [], id="three-parts"),
        pytest.param("12:34:56", [], id="time"),
        pytest.param("aa:bb:cc:dd:ee:ff", [], id="mac-address"),
        pytest.param("main:app", [], id="python-entry-point"),
        pytest.param("sha256:0123abcd", [], id="digest"),
    ],
)
def test_ip_literals(text: str, addresses: list[str]) -> None:
    assert ip_literals(text) == addresses


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        pytest.param("0.0.0.0", [], id="every-interface-v4"),
        pytest.param("::", [], id="every-interface-v6"),
        pytest.param("0:0:0:0:0:0:0:0", [], id="every-interface-v6-long"),
        pytest.param("127.0.0.1", ["127.0.0.1"], id="loopback-is-a-host"),
        pytest.param("0.0.0.0 or 10.0.0.1", ["10.0.0.1"], id="mixed"),
    ],
)
def test_host_ips_leave_out_unspecified_addresses(text: str, hosts: list[str]) -> None:
    assert host_ips(text) == hosts


def test_replace_ipv4_leaves_longer_addresses() -> None:
    assert replace_ipv4("127.0.0.1 127.0.0.12 x127.0.0.1", "127.0.0.1", "localhost") == "localhost 127.0.0.12 x127.0.0.1"


@pytest.mark.parametrize(
    ("value", "weak"),
    [("changeme", True), (" Admin ", True), ("minioadmin", True), ("sophia", True), ("my-changeme-2", True),
     ("db_password", True), ("x7#Kq2!vR9", False), ("passwords", False)],
)
def test_weak_passwords(value: str, weak: bool) -> None:
    assert is_weak_password(value) is weak


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [("password", True), ("DB_PASSWORD", True), ("apiKey", True), ("clientSecret", True),
     ("secretName", False), ("existingSecret", False), ("configSecret", False), ("passwordFile", False),
     ("tokenSecretRef", False), ("LOG_LEVEL", False)],
)
def test_keys_that_name_a_secret_held_elsewhere_are_not_sensitive(key: str, sensitive: bool) -> None:
    assert is_sensitive(key) is sensitive


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("500m", Decimal("0.5"), id="milli"),
        pytest.param("2", Decimal(2), id="whole"),
        pytest.param("1.5", Decimal("1.5"), id="decimal"),
        pytest.param(".5", Decimal("0.5"), id="leading-point"),
        pytest.param("1.", Decimal(1), id="trailing-point"),
        pytest.param("+1", Decimal(1), id="sign"),
        pytest.param("512Mi", Decimal(512 * 2**20), id="binary-suffix"),
        pytest.param("2Ei", Decimal(2 * 2**60), id="exbi"),
        pytest.param("1G", Decimal(10**9), id="decimal-suffix"),
        pytest.param("1E", Decimal(10**18), id="exa-not-exponent"),
        pytest.param("1e3", Decimal(1000), id="exponent"),
        pytest.param("15E-1", Decimal("1.5"), id="negative-exponent"),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Gi", "1e", "1Gb", "1 Gi", "1gi", "inf", "0x10", "1.2.3", "1e99999999999"])
def test_parse_quantity_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)


def test_quantity_helpers() -> None:
    assert (millicores("250m"), millicores("2"), millicores("0.0001")) == (250, 2000, 1)  # rounded up, as Kubernetes does
    assert (memory_bytes("1Gi"), memory_bytes("1k")) == (2**30, 1000)
    assert (quantity_or_none("50Gi"), quantity_or_none(2), quantity_or_none(None), quantity_or_none("lots")) == (50 * 2.0**30, 2.0, None, None)


NAMES = {
    "DNS1123_LABEL": DNS1123_LABEL, "DNS1123_SUBDOMAIN": DNS1123_SUBDOMAIN, "DNS1035_LABEL": DNS1035_LABEL,
    "ENV_NAME": ENV_NAME, "IMAGE_TAG": IMAGE_TAG, "IMAGE_REPOSITORY": IMAGE_REPOSITORY,
}


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        pytest.param("DNS1123_LABEL", ["a", "0ab", "a-b"], ["A", "a_b", "-a", "a-", "a.b", "a\n"], id="dns1123-label"),
        pytest.param("DNS1123_SUBDOMAIN", ["a.b", "a-1.b-2.c"], ["a..b", ".a", "a.", "A.b"], id="dns1123-subdomain"),
        pytest.param("DNS1035_LABEL", ["a", "a-1"], ["1a", "a-", "a_b"], id="dns1035-label"),
        pytest.param("ENV_NAME", ["A", "_a1", "DB_URL"], ["1A", "A-B", "A B", ""], id="env-name"),
        pytest.param("IMAGE_TAG", ["1.2.3", "v1_2-rc.1", "_x"], [".x", "-x", "a" * 129, "a:b"], id="image-tag"),
        pytest.param("IMAGE_REPOSITORY", ["nginx", "ghcr.io/acme/api", "registry:5000/a__b"], ["Nginx", "a//b", "a:b:c"],
                     id="image-repository"),
    ],
)
def test_name_patterns(pattern: str, good: list[str], bad: list[str]) -> None:
    rx = NAMES[pattern]
    assert [g for g in good if not rx.fullmatch(g)] == []
    assert [b for b in bad if rx.fullmatch(b)] == []
