"""Webhook signatures (webhook_signature, webhook_signature_verify): HMAC-SHA256
over timestamp and body, secret rotation, replay window."""

from __future__ import annotations

import pytest

from onsale.payments import (
    WebhookSignatureInvalid,
)
from onsale.payments.webhooks import (
    webhook_signature,
    webhook_signature_verify,
)
from onsale.testutils.payments import SECRET


def test_webhook_signature_round_trip_and_rejections():
    payload = b'{"id":"evt_1"}'
    now = 1_800_000_000
    header = webhook_signature(secret=SECRET, payload=payload, timestamp=now)
    assert (
        webhook_signature_verify(
            secrets=[SECRET],
            payload=payload,
            header=header,
            tolerance_seconds=300,
            now=now + 10,
        )
        == now
    )
    # rotation: any of several secrets
    assert (
        webhook_signature_verify(
            secrets=["old", SECRET],
            payload=payload,
            header=header,
            tolerance_seconds=300,
            now=now,
        )
        == now
    )
    bad_cases = [
        (SECRET, payload + b" ", header, now),  # tampered body
        ("other-secret", payload, header, now),  # forged with another key
        (SECRET, payload, header, now + 301),  # replayed after the window
        (SECRET, payload, None, now),  # missing
        (SECRET, payload, "v1=abc", now),  # no timestamp
        (SECRET, payload, f"t={now},v1=" + "0" * 64, now),  # wrong digest
    ]
    for secret, body, value, at in bad_cases:
        with pytest.raises(WebhookSignatureInvalid):
            webhook_signature_verify(
                secrets=[secret],
                payload=body,
                header=value,
                tolerance_seconds=300,
                now=at,
            )
