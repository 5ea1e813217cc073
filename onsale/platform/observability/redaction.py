"""Masking of secrets in log lines and error reports.

Values under secret-looking keys (password, token, authorization, cookie, ...)
and anything that looks like a credential (JWTs, 64-hex bearer tokens,
`Bearer ...`, `password=...`, URL passwords, the configured secrets
themselves) are masked. The JSON formatter (`logging.py`) runs every line
through it; the ops status page runs its error texts through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

_SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "private_key",
    "signature",
    "credential",
    "sessionid",
    "session_key",
    "csrf",
    "jwt",
    "license_key",
)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens: header.payload.signature, the header always `eyJ`.
    (
        re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        "[REDACTED:jwt]",
    ),
    # An Authorization header's credentials.
    (
        re.compile(r"(?i)\b(bearer|token|basic|digest)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
        r"\1\2" + REDACTED,
    ),
    # Bearer tokens (knox: 64 hex) and anything longer in hex (token digests).
    (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64,}(?![0-9A-Fa-f])"), "[REDACTED:hex]"),
    # password=..., "token": "...", Cookie: ... written into a message.
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|authorization|cookie|api[_-]?key"
            r"|sessionid|csrftoken)[\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&)}]+)"
        ),
        r"\1" + REDACTED,
    ),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)"), r"\1***\3"),
)
_known_secrets: tuple[str, ...] | None = None
# Settings that hold secrets by their name's ending (SECRET_KEY, METRICS_TOKEN,
# EMAIL_HOST_PASSWORD, NEW_RELIC_LICENSE_KEY, *_PRIVATE_KEY, *_SIGNING_KEYS,
# SECRET_KEY_FALLBACKS ...); not *_TOKEN_TTL_HOURS and the like.
_SECRET_SETTING = re.compile(
    r"(^|_)(SECRET(_KEY)?|SECRET_KEY_FALLBACKS|PASSWORD|TOKEN|LICENSE_KEY"
    r"|PRIVATE_KEYS?|SIGNING_KEYS?)$"
)


def _secret_strings(value: Any, found: set[str], depth: int = 0) -> None:
    if isinstance(value, str):
        for line in value.splitlines() or [value]:
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----"):
                found.add(line)
    elif depth < 3 and isinstance(value, Mapping):
        for item in value.values():
            _secret_strings(item, found, depth + 1)
    elif depth < 3 and isinstance(value, list | tuple):
        for item in value:
            _secret_strings(item, found, depth + 1)


def configured_secrets() -> tuple[str, ...]:
    """The secret values this process was configured with (SECRET_KEY,
    METRICS_TOKEN, license keys, signing keys line by line), read once."""
    global _known_secrets
    if _known_secrets is not None:
        return _known_secrets
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        names = [name for name in dir(settings) if _SECRET_SETTING.search(name)]
        values = [getattr(settings, name) for name in names]
    except ImproperlyConfigured:
        return ()  # settings not loadable yet (gunicorn's master): try later
    found: set[str] = set()
    for value in values:
        _secret_strings(value, found)
    _known_secrets = tuple(sorted(found, key=len, reverse=True))
    return _known_secrets


def redaction_reset() -> None:
    """Forget the cached configured secrets (tests that change settings)."""
    global _known_secrets
    _known_secrets = None


def is_sensitive_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(part in lowered for part in _SENSITIVE_KEY_PARTS)


# One cheap search says whether any of the patterns above could match; most
# lines hold none of these words, and skip the substitutions.
_SUSPECT = re.compile(
    r"eyJ|[0-9A-Fa-f]{64}|://|(?i:bearer|token|basic|digest|passw|secret"
    r"|authorization|cookie|api[_-]?key|sessionid)"
)


def redact_text(text: str) -> str:
    """`text` with credentials masked. Short strings cannot hold one."""
    if len(text) < 8:
        return text
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    if _SUSPECT.search(text) is None:
        return text
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """`value` with secret-looking keys masked and text redacted, recursively
    through dicts and lists (to a sane depth)."""
    if isinstance(value, str):
        return redact_text(value)
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            str(key): (
                REDACTED
                if is_sensitive_key(str(key)) and isinstance(item, str | bytes)
                else redact_value(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    return value
