"""payment_gateway(): the configured provider, behind the PaymentGateway
interface."""

from __future__ import annotations

from onsale.payments import (
    PaymentGateway,
    payment_gateway,
)
from onsale.testutils.payments import gateway


def test_fake_gateway_implements_the_interface(settings):
    assert isinstance(payment_gateway(), PaymentGateway)
    assert isinstance(gateway(), PaymentGateway)
