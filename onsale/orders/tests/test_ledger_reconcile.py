"""The ledger reconciliation (fake_ledger_reconcile) and its payments_reconcile
command."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onsale.payments.fake.cards import (
    SUCCESS_CARD,
)
from onsale.testutils.payments import card, gateway


@pytest.mark.django_db
def test_reconcile_command_reports_a_charge_without_an_order(capsys):
    from django.core.management import CommandError, call_command

    call_command("payments_reconcile")
    assert "ledger and orders agree" in capsys.readouterr().out
    gateway().charge(
        idempotency_key="order-424242",
        amount=Decimal("5"),
        currency="EUR",
        source=card(SUCCESS_CARD),
    )
    with pytest.raises(CommandError):
        call_command("payments_reconcile")
    assert "has no order" in capsys.readouterr().out


@pytest.mark.django_db
def test_fake_ledger_reconcile_needs_a_gateway_that_lists_its_charges():
    from django.core.exceptions import ImproperlyConfigured

    from onsale.orders.ledger_reconcile import fake_ledger_reconcile
    from onsale.payments import payment_gateway_override

    class Silent:
        name = "silent"

    payment_gateway_override(Silent())  # type: ignore[arg-type]
    try:
        with pytest.raises(ImproperlyConfigured):
            fake_ledger_reconcile()
    finally:
        payment_gateway_override(None)
