"""Secrets: which env var names hold one, their ESC key paths, weak and literal values (flagged), swarm secrets
(mounted files).
"""

from __future__ import annotations

import re
from typing import Any

from sophia.importer.compose import Interpolated
from sophia.importer.mapped import Mapped
from sophia.values import is_weak_password

_SENSITIVE = re.compile(
    r"(^|_)(PASSWORD|PASSWD|PASS|PWD|SECRET|SECRETS|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|KEY|CREDENTIALS?|DSN)(_|$)"
)


def is_secret_variable(name: str) -> bool:
    """Whether the importer reads a variable from ESC: its name has a word of a secret (`DB_PASSWORD`,
    `SENTRY_DSN`, `ENCRYPTION_KEY`; a `*_FILE` path is not one). Wider than `values.is_sensitive`, which
    judges a value already written: what the import moves to ESC never needs judging again."""
    upper = name.upper()
    if upper.endswith("_FILE"):
        return False
    return bool(_SENSITIVE.search(upper))


def esc_key(service: str, name: str) -> str:
    """The Pulumi ESC path of a secret: `<service>.<name>` in lower case with `_` (`ai_memory.openai_api_key`)."""

    def part(text: str) -> str:
        out = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_") or "value"
        return out if out[0].isalpha() else "s_" + out

    return f"{part(service)}.{part(name)}"


URL = re.compile(r"^(?:jdbc:)?([a-z][a-z0-9+.-]*)://(?:([^@/\s]*)@)?([A-Za-z0-9_.-]+)(?::([0-9]+))?(/[^?#\s]*)?([?#].*)?$")


def flag_secret_values(m: Mapped, name: str, value: Any, iv: Interpolated, creds: bool) -> None:
    """Flag a sensitive value written literally, or whose default is, and weak values among them."""
    for var, default in iv.defaults:
        if default:
            why = "a well-known weak value" if is_weak_password(default) else "committed in the file, so known to every reader"
            m.flag("weak-default", f"{name}: the default of ${{{var}}} is {why}; it became an ESC reference")
    raw_text = "" if value is None else str(value)
    if "$" in raw_text or not raw_text:
        if creds:
            url = URL.match(iv.text.strip())
            password = (url.group(2) or "").split(":", 1)[1] if url else ""
            if password and "${" not in password:
                m.flag("secret-literal", f"{name}: a URL with a literal password; it became an ESC reference")
                if is_weak_password(password):
                    m.flag("weak-default", f"{name}: the password in the URL is a well-known weak value")
        return
    m.flag("secret-literal", f"{name} is written literally; it became an ESC reference")
    check = raw_text
    url = URL.match(raw_text.strip())
    if url and url.group(2) and ":" in url.group(2):
        check = url.group(2).split(":", 1)[1]
    if is_weak_password(check):
        m.flag("weak-default", f"{name}: the literal value is a well-known weak value")


def swarm_secrets(m: Mapped, raw: dict[str, Any], secrets: dict[str, dict[str, str]]) -> None:
    """Swarm secrets -> ESC references mounted as files where compose mounted them."""
    for item in raw.get("secrets") or []:
        if isinstance(item, dict):
            source = str(item.get("source", ""))
            target = str(item.get("target", source))
        else:
            source = target = str(item)
        if not source:
            continue
        key = re.sub(r"[^A-Za-z0-9_]", "_", source).upper()
        if not re.match(r"^[A-Z_]", key):
            key = "S_" + key
        if key in secrets:
            key += "_FILE"
        mount = target if target.startswith("/") else f"/run/secrets/{target}"
        secrets[key] = {"key": esc_key(m.name, source), "mountPath": mount}
        m.note("swarm-secret", f"swarm secret {source} -> ESC {esc_key(m.name, source)}, mounted at {mount}")
