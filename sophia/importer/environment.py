"""Env vars and the command line: plain values, ESC references, URLs that name another service (kept as
references for the dependencies), IP literals rewritten or left out.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from sophia.importer.addresses import DOCKER_DNS, POD_IP_REF, describe_ip, ip_owner, is_local_ip
from sophia.importer.compose import ComposeFile, Interpolated, interpolate, scalar
from sophia.importer.mapped import Mapped, Ref
from sophia.importer.ports import published_by, small_number
from sophia.importer.secrets import URL, esc_key, flag_secret_values, is_secret_variable
from sophia.model.models import LLM_VARIABLES, URL_PATH
from sophia.values import ENV_NAME, HOST_VARIABLE_SUFFIXES, LLM_PROVIDER_KEY, cluster_host, ipv4_literals, replace_ipv4

_LLM_PROVIDERS = {"OPENAI": "openai", "ANTHROPIC": "anthropic", "GROQ": "groq", "MISTRAL": "mistral-ai",
                  "TOGETHER": "together-ai", "PERPLEXITY": "perplexity-ai", "OPENROUTER": "openrouter"}


def env_items(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    """The `environment:` of a definition as (name, value) pairs, from its mapping or list form."""
    env = raw.get("environment")
    items: list[tuple[str, Any]] = []
    if isinstance(env, dict):
        items = [(str(k), v) for k, v in env.items()]
    elif isinstance(env, list):
        for entry in env:
            text = str(entry)
            if "=" in text:
                k, v = text.split("=", 1)
                items.append((k.strip(), v))
            else:
                items.append((text.strip(), None))
    return items


def env_and_secrets(
    m: Mapped, raw: dict[str, Any], ip_owners: dict[str, str], hosts: dict[str, ComposeFile], reported: set[str]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """A definition's plain env values and ESC references; references to other services are kept on `m.refs`."""
    env: dict[str, str] = {}
    secrets: dict[str, dict[str, str]] = {}
    if raw.get("env_file"):
        m.note("env-file-not-read", "env_file is not read (its values are not known to the import)")
    for name, value in env_items(raw):
        if not ENV_NAME.fullmatch(name):
            m.note("env-skipped", f"{name!r} is not a valid env var name")
            continue
        if name == "ENVIRONMENT":
            m.note("env-reserved", f"ENVIRONMENT={value} not imported: sophia sets it to the environment's name")
            continue
        iv = scalar(value) if value is not None else Interpolated(f"${{{name}}}", (name,))
        url = URL.match(iv.text.strip())
        creds = bool(url and url.group(2) and ":" in url.group(2))
        ips = ipv4_literals(iv.text)
        if LLM_PROVIDER_KEY.fullmatch(name):
            flag_secret_values(m, name, value, iv, creds)
            m.entry["callsLlm"] = True
            m.llm.append(_LLM_PROVIDERS.get(name.split("_")[0], "openrouter"))
            m.note("llm-key-to-gateway", f"{name} not imported: the service calls the LLM gateway (callsLlm), which holds provider keys")
            continue
        if is_secret_variable(name) or creds:
            secrets[name] = {"key": esc_key(m.name, name)}
            flag_secret_values(m, name, value, iv, creds)
            if url and not ips:
                m.refs.append(Ref(name, url.group(3), url.group(1), small_number(url.group(4) or ""), False, iv.text))
            continue
        exact = url is not None and _exact_url(url, iv.text)
        if ips:
            reported.update(ips)
            kept = _ip_env(m, name, iv.text, url, exact, ips, ip_owners, hosts)
            if kept is None:
                continue
            env[name] = kept
            continue
        if url is not None:
            m.refs.append(Ref(name, url.group(3), url.group(1), small_number(url.group(4) or ""), exact, iv.text,
                               path=_carried_path(url, iv.text)))
        elif not iv.unresolved and name.upper().endswith(HOST_VARIABLE_SUFFIXES) and "." not in iv.text.strip():
            host = cluster_host(name, iv.text.strip())
            if host is not None:
                port = small_number(iv.text.strip().rsplit(":", 1)[1]) if ":" in iv.text else None
                m.refs.append(Ref(name, host, "", port, True, iv.text, form="host-port" if port else "host"))
        if iv.unresolved and iv.text.strip() == f"${{{iv.unresolved[0]}}}":
            secrets[name] = {"key": esc_key(m.name, name)}
            m.flag("env-from-esc", f"{name} is ${{{iv.unresolved[0]}}}, a value the deploy shell supplied: it is read "
                   f"from ESC at {secrets[name]['key']} (set it there per environment)")
            continue
        if iv.unresolved:
            m.flag("env-unresolved", f"{name} needs ${{{', '.join(iv.unresolved)}}}, which is unset; left out")
            continue
        env[name] = iv.text
    if m.entry.get("callsLlm"):
        for name in LLM_VARIABLES:
            if env.pop(name, None) is not None:
                m.note("env-reserved", f"{name} not imported: callsLlm sets it to the LLM gateway's address and routing")
    return env, secrets


def _carried_path(url: re.Match[str], text: str) -> str | None:
    """The path of a URL a dependency can carry (`ws://backend:8000/ws` -> `/ws`), or None."""
    path = url.group(5)
    if not path or url.group(2) is not None or url.group(6) or text.strip().startswith("jdbc:"):
        return None
    return path if URL_PATH.fullmatch(path) else None


def _exact_url(url: re.Match[str], text: str) -> bool:
    """Whether a URL is just scheme://host:port, which a dependency can carry (redis' `/0` is its default db)."""
    path = (url.group(5) or "").strip("/")
    if url.group(1) in ("redis", "rediss") and path == "0":
        path = ""
    return not path and not url.group(6) and not text.strip().startswith("jdbc:")


def _ip_env(
    m: Mapped, name: str, text: str, url: re.Match[str] | None, exact: bool, ips: list[str],
    owners: dict[str, str], hosts: dict[str, ComposeFile],
) -> str | None:
    """An env value holding IP literals: the value to keep (possibly rewritten), or None when left out."""
    if all(is_local_ip(ip) for ip in ips):
        m.flag("ip-unresolved", f"{name}={text}: {', '.join(describe_ip(ip) for ip in ips)}; sophia refuses IP "
               "literals in env, so it was left out: check what the service binds to without it")
        return None
    if url is not None and len(ips) == 1 and url.group(3) == ips[0] and ips[0] in hosts:
        target = published_by(hosts[ips[0]], small_number(url.group(4) or "") or (443 if url.group(1) == "https" else 80))
        if target is not None:
            svc, container = target
            host_file = hosts[ips[0]]
            m.refs.append(Ref(name, svc, url.group(1), container, exact, text, host_file.file,
                               path=_carried_path(url, text)))
            m.flag("ip-literal", f"{name}={text}: {ips[0]} is the host of {host_file.file} "
                   f"({host_file.host_ips[ips[0]]}), where port {url.group(4) or 'default'} is published by {svc}: "
                   "it became a reference to that service")
            return text.replace(ips[0], svc, 1)
    for ip in ips:
        m.flag("ip-unresolved", f"{name}={text}: {ip} is {ip_owner(ip, owners)}, and no service of the import answers "
               "there: the variable was left out (set the upstream by hand, as a dependency)")
    return None


def command_and_args(
    m: Mapped, raw: dict[str, Any], env: dict[str, str], secrets: dict[str, dict[str, str]], reported: set[str],
    exec_probe: bool,
) -> None:
    """`entrypoint`/`command` -> the container's command and args, unset variables as `$(VAR)`, IP literals
    rewritten (loopback, bind-all) or the field left out."""
    for key, field_name in (("entrypoint", "command"), ("command", "args")):
        value = raw.get(key)
        if value is None:
            continue
        argv = shlex.split(str(value)) if isinstance(value, str) else [str(v) for v in value]
        out: list[str] = []
        dropped = False
        for arg in argv:
            iv = interpolate(arg)
            text = iv.text
            for var in iv.unresolved:
                text = text.replace(f"${{{var}}}", f"$({var})")
                if is_secret_variable(var):
                    secrets.setdefault(var, {"key": esc_key(m.name, var)})
                    m.note("command-secret", f"{key} uses ${{{var}}}: taken from ESC {esc_key(m.name, var)} as $({var})")
                elif var not in env and var not in secrets:
                    m.flag("env-unresolved", f"{key} uses ${{{var}}}, which is unset")
            ips = ipv4_literals(text)
            reported.update(ips)
            for ip in dict.fromkeys(ips):
                if ip.startswith("127.") and ip != DOCKER_DNS:
                    text = replace_ipv4(text, ip, "localhost")
                    m.flag("ip-literal", f"{key} holds {ip} (loopback, the same inside a pod): written as localhost")
                elif ip == "0.0.0.0" and not exec_probe:
                    text = replace_ipv4(text, ip, POD_IP_REF)
                    m.flag("ip-literal", f"{key} binds {ip} (all interfaces): written as {POD_IP_REF}, the pod's own "
                           "address, which is where the kubelet's http/tcp probes and the Service connect")
                elif ip == "0.0.0.0":
                    m.flag("ip-unresolved", f"{key} binds {ip} (all interfaces), and the health check is a command run "
                           f"inside the container, which may call loopback: {POD_IP_REF} would not do; the {key} was "
                           "left out")
                    dropped = True
                else:
                    m.flag("ip-unresolved", f"{key} holds {ip} ({describe_ip(ip)}); the {key} was left out")
                    dropped = True
            out.append(text)
        if dropped:
            continue
        m.entry[field_name] = out
