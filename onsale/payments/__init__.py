"""Payments: the gateway interface, webhook signatures, and the adapters
(`fake/`, an app of its own installed only when it is the configured provider).

`payment_gateway()` is the one way orders and checkout get the configured
provider. Imports only onsale.platform: orders and checkout sit above it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from onsale.payments.gateway import (
    Charge,
    ChargeLedger,
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
    PaymentRequestInvalid,
    PaymentSource,
    PaymentTransientError,
    Refund,
    WebhookEvent,
    WebhookSignatureInvalid,
)

__all__ = [
    "Charge",
    "ChargeLedger",
    "PaymentDeclined",
    "PaymentError",
    "PaymentGateway",
    "PaymentRequestInvalid",
    "PaymentSource",
    "PaymentTransientError",
    "Refund",
    "WebhookEvent",
    "WebhookSignatureInvalid",
    "payment_gateway",
]

_override: PaymentGateway | None = None


def payment_gateway() -> PaymentGateway:
    """The provider named by settings.PAYMENT_GATEWAY, built from settings on
    each call (construction is cheap and holds no connection), so settings
    overrides in tests apply at once."""
    if _override is not None:
        return _override
    name = settings.PAYMENT_GATEWAY
    if name == "fake":
        from onsale.payments.fake.gateway import FakeGateway

        return FakeGateway(
            webhook_secret=settings.PAYMENT_WEBHOOK_SECRET,
            latency_seconds=settings.FAKE_PAYMENTS_LATENCY_MS / 1000,
            timeout_latency_seconds=settings.FAKE_PAYMENTS_TIMEOUT_LATENCY_MS / 1000,
            webhook_tolerance_seconds=settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS,
            fault_rate=settings.FAKE_PAYMENTS_FAULT_RATE,
        )
    raise ImproperlyConfigured(f"Unknown PAYMENT_GATEWAY {name!r}.")


def payment_gateway_override(gateway: PaymentGateway | None) -> None:
    """Make `payment_gateway()` return `gateway` (None restores settings).
    For drills and tests that need a gateway with a seeded fault plan."""
    global _override
    _override = gateway
