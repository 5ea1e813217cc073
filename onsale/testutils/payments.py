"""The fake payment provider as the payments, orders and checkout tests use it:
a gateway with a known webhook secret, and a card to pay with."""

from __future__ import annotations

from typing import Any

from onsale.payments import PaymentSource
from onsale.payments.fake.gateway import FakeGateway

SECRET = "whsec_test"


def gateway(**kwargs: Any) -> FakeGateway:
    """The fake gateway, signing and checking webhooks with `SECRET`."""
    return FakeGateway(webhook_secret=SECRET, **kwargs)


def card(number: str) -> PaymentSource:
    """A payment source for one of the fake provider's test card numbers."""
    return PaymentSource(card_number=number)
