"""Signed webhooks: HMAC-SHA256 over "<timestamp>.<body>", Stripe's scheme.

The header reads `t=<unix seconds>,v1=<hex digest>[,v1=<hex digest>...]`;
several `v1` entries let a provider sign with an old and a new secret while a
secret is rotated. A signature older (or newer) than the tolerance is refused,
so a captured request cannot be replayed later; replays inside the window are
stopped by the receiver deduplicating event ids.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from onsale.payments.gateway import WebhookSignatureInvalid

SIGNATURE_HEADER = "Onsale-Signature"


def webhook_signature(*, secret: str, payload: bytes, timestamp: int) -> str:
    """The header value a provider sends with `payload` at `timestamp`."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(
    *,
    secrets: list[str],
    payload: bytes,
    header: str | None,
    tolerance_seconds: int,
    now: int | None = None,
) -> int:
    """Check `header` against `payload` for any of `secrets`; return its timestamp.

    Raises WebhookSignatureInvalid when the header is missing or malformed, no
    digest matches (compared in constant time), or the timestamp is outside
    `tolerance_seconds` of now.
    """
    if not header:
        raise WebhookSignatureInvalid("missing signature header")
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookSignatureInvalid("malformed timestamp") from None
        elif name == "v1" and value:
            digests.append(value)
    if timestamp is None or not digests:
        raise WebhookSignatureInvalid("malformed signature header")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookSignatureInvalid("signature outside the replay window")
    signed = f"{timestamp}.".encode() + payload
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, digest) for digest in digests):
            return timestamp
    raise WebhookSignatureInvalid("signature does not match")
