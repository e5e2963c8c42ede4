"""Service, NetworkPolicy and Ingress, as the 1.33 API server validates them on creation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sophia.values import FieldPath

from . import formats as f
from . import meta
from .formats import Problem

_PROTOCOLS = ("SCTP", "TCP", "UDP")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")
_BAD_PATH_ENDS = ("/..", "/.")


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else {}


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def service(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    kind = spec.get("type", "ClusterIP")
    cluster_ip = spec.get("clusterIP")
    ports = f.sequence(spec.get("ports"))
    if kind not in _SERVICE_TYPES:
        yield f.not_supported(("spec", "type"), kind, _SERVICE_TYPES)
    if not ports and cluster_ip != "None" and kind != "ExternalName":
        yield f.required(("spec", "ports"))
    if cluster_ip == "None" and kind in ("LoadBalancer", "NodePort"):
        yield f.invalid(("spec", "clusterIP"), "None", f"may not be set to 'None' for {kind} services")
    if kind == "ExternalName":
        if cluster_ip:
            yield f.forbidden(("spec", "clusterIP"), "may not be set for ExternalName services")
        name = spec.get("externalName")
        if not name:
            yield f.required(("spec", "externalName"))
        elif isinstance(name, str):
            yield from f.invalid_each(("spec", "externalName"), name.removesuffix("."), f.is_dns1123_subdomain(name.removesuffix(".")))
    names: set[str] = set()
    taken: set[tuple[Any, Any]] = set()
    for i, port in _items(ports):
        here = ("spec", "ports", i)
        yield from _service_port(port, here, len(ports) > 1, names)
        key = (port.get("port"), port.get("protocol", "TCP"))
        if key in taken:
            yield f.duplicate(here, {"port": key[0], "protocol": key[1]})
        taken.add(key)
        if kind == "ClusterIP" and port.get("nodePort"):
            yield f.forbidden((*here, "nodePort"), "may not be used when `type` is 'ClusterIP'")
    yield from f.labels(spec.get("selector"), ("spec", "selector"))


def _service_port(port: dict[str, Any], path: FieldPath, name_required: bool, names: set[str]) -> Iterator[Problem]:
    name = port.get("name")
    if not name:
        if name_required:
            yield f.required((*path, "name"))
    elif isinstance(name, str):
        yield from f.invalid_each((*path, "name"), name, f.is_dns1123_label(name))
        if name in names:
            yield f.duplicate((*path, "name"), name)
        names.add(name)
    number = port.get("port")
    if isinstance(number, int) and not isinstance(number, bool):
        yield from f.invalid_each((*path, "port"), number, f.is_port_number(number))
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _PROTOCOLS:
        yield f.not_supported((*path, "protocol"), protocol, _PROTOCOLS)
    target = port.get("targetPort")
    if target is not None and target != 0:
        yield from f.port_num_or_name(target, (*path, "targetPort"))


def network_policy(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    yield from meta.label_selector(spec.get("podSelector"), ("spec", "podSelector"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in _items(spec.get(direction)):
            here = ("spec", direction, i)
            for j, port in _items(rule.get("ports")):
                yield from _policy_port(port, (*here, "ports", j))
            for j, peer in _items(rule.get(peers)):
                yield from _peer(peer, (*here, peers, j))
    types = spec.get("policyTypes")
    if isinstance(types, list):
        for i, kind in enumerate(types):
            if kind not in ("Ingress", "Egress"):
                yield f.not_supported(("spec", "policyTypes", i), kind, ("Ingress", "Egress"))
        if len(types) > 2:
            yield f.invalid(("spec", "policyTypes"), types, "may not specify more than two policyTypes")


def _policy_port(port: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    protocol = port.get("protocol")
    if protocol is not None and protocol not in _PROTOCOLS:
        yield f.not_supported((*path, "protocol"), protocol, _PROTOCOLS)
    number, end = port.get("port"), port.get("endPort")
    if isinstance(number, int) and not isinstance(number, bool):
        yield from f.invalid_each((*path, "port"), number, f.is_port_number(number))
        if isinstance(end, int):
            if end < number:
                yield f.invalid((*path, "endPort"), number, "must be greater than or equal to `port`")
            yield from f.invalid_each((*path, "endPort"), end, f.is_port_number(end))
    elif isinstance(number, str):
        if end is not None:
            yield f.invalid((*path, "endPort"), end, "may not be specified when `port` is non-numeric")
        yield from f.invalid_each((*path, "port"), number, f.is_port_name(number))
    elif end is not None:
        yield f.invalid((*path, "endPort"), end, "may not be specified when `port` is not specified")


def _peer(peer: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    given = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    for key in ("podSelector", "namespaceSelector"):
        yield from meta.label_selector(peer.get(key), (*path, key))
    if not given:
        yield f.required(path, "must specify a peer")
    elif len(given) > 1 and "ipBlock" in given:
        yield f.forbidden(path, "may not specify both ipBlock and another peer")
    block = peer.get("ipBlock")
    if isinstance(block, dict):
        yield from _ip_block(block, (*path, "ipBlock"))


def _ip_block(block: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    cidr = block.get("cidr")
    if not cidr or not isinstance(cidr, str):
        yield f.required((*path, "cidr"))
        return
    yield from f.invalid_each((*path, "cidr"), cidr, f.cidr_errors(cidr))
    network = f.parse_cidr(cidr)
    if network is None:
        return
    for i, text in enumerate(f.sequence(block.get("except"))):
        here = (*path, "except", i)
        errors = f.cidr_errors(str(text))
        yield from f.invalid_each(here, text, errors)
        inner = f.parse_cidr(str(text))
        if errors or inner is None:
            continue
        if inner.version != network.version or inner.network_address not in network or inner.prefixlen <= network.prefixlen:
            yield f.invalid(here, text, "must be a strict subset of `cidr`")


def ingress(data: dict[str, Any]) -> Iterator[Problem]:
    spec = _spec(data)
    rules = f.sequence(spec.get("rules"))
    if spec.get("defaultBackend") is None and not rules:
        yield f.invalid(("spec",), spec, "either `defaultBackend` or `rules` must be specified")
    class_name = spec.get("ingressClassName")
    if isinstance(class_name, str):
        yield from f.invalid_each(("spec", "ingressClassName"), class_name, f.is_dns1123_subdomain(class_name))
    if isinstance(spec.get("defaultBackend"), dict):
        yield from _backend(spec["defaultBackend"], ("spec", "defaultBackend"))
    for i, tls in _items(spec.get("tls")):
        hosts = f.sequence(tls.get("hosts"))
        for j, host in enumerate(hosts):
            if isinstance(host, str):
                check = f.is_wildcard_dns1123_subdomain if "*" in host else f.is_dns1123_subdomain
                yield from f.invalid_each(("spec", "tls", i, "hosts", j), host, check(host))
    for i, rule in _items(rules):
        yield from _rule(rule, ("spec", "rules", i))


def _rule(rule: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    host = rule.get("host")
    if isinstance(host, str) and host:
        if f.is_ip(host):
            yield f.invalid((*path, "host"), host, "must be a DNS name, not an IP address")
        check = f.is_wildcard_dns1123_subdomain if "*" in host else f.is_dns1123_subdomain
        yield from f.invalid_each((*path, "host"), host, check(host))
    http = rule.get("http")
    if not isinstance(http, dict):
        return
    paths = f.sequence(http.get("paths"))
    if not paths:
        yield f.required((*path, "http", "paths"))
    for i, item in _items(paths):
        here = (*path, "http", "paths", i)
        yield from _path(item, here)
        if isinstance(item.get("backend"), dict):
            yield from _backend(item["backend"], (*here, "backend"))


def _path(item: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    kind, text = item.get("pathType"), item.get("path", "")
    if kind is None:
        yield f.required((*path, "pathType"), "pathType must be specified")
        return
    if kind not in _PATH_TYPES:
        yield f.not_supported((*path, "pathType"), kind, _PATH_TYPES)
        return
    if not isinstance(text, str):
        return
    if kind == "ImplementationSpecific":
        if text and not text.startswith("/"):
            yield f.invalid((*path, "path"), text, "must be an absolute path")
        return
    if not text.startswith("/"):
        yield f.invalid((*path, "path"), text, "must be an absolute path")
    for part in _BAD_PATH_PARTS:
        if part in text:
            yield f.invalid((*path, "path"), text, f"must not contain '{part}'")
    for end in _BAD_PATH_ENDS:
        if text.endswith(end):
            yield f.invalid((*path, "path"), text, f"cannot end with '{end}'")


def _backend(backend: dict[str, Any], path: FieldPath) -> Iterator[Problem]:
    service_ref, resource = backend.get("service"), backend.get("resource")
    if service_ref is None and resource is None:
        yield f.invalid(path, backend, "one backend type must be specified")
        return
    if service_ref is not None and resource is not None:
        yield f.invalid(path, backend, "cannot set both resource and service backends")
    if not isinstance(service_ref, dict):
        return
    name = service_ref.get("name")
    if not name:
        yield f.required((*path, "service", "name"))
    elif isinstance(name, str):
        yield from f.invalid_each((*path, "service", "name"), name, f.is_dns1035_label(name))
    port = f.mapping(service_ref.get("port"))
    port_name, number = port.get("name"), port.get("number")
    if port_name and number:
        yield f.invalid((*path, "service", "port"), port, "cannot set both port name & port number")
    elif isinstance(port_name, str) and port_name:
        yield from f.invalid_each((*path, "service", "port", "name"), port_name, f.is_port_name(port_name))
    elif isinstance(number, int) and not isinstance(number, bool) and number:
        yield from f.invalid_each((*path, "service", "port", "number"), number, f.is_port_number(number))
    else:
        yield f.required((*path, "service", "port"), "port name or number is required")
