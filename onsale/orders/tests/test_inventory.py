"""The port to seat selection and the waiting room (orders/inventory.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onsale.orders import inventory
from onsale.orders.exceptions import AccessTokenMissing
from onsale.testutils.checkout import Shopper
from onsale.waitingroom.exceptions import AccessTokenInvalid

pytestmark = pytest.mark.django_db(transaction=True)


def test_hold_for_checkout_prices_seats_and_places_from_mysql(event):
    # given a hold of two standing places
    shopper = Shopper(event)
    hold = shopper.hold(None, category="GA", quantity=2)

    # when it is confirmed for checkout
    confirmed = inventory.hold_for_checkout(
        event_id=event.pk,
        user_id=shopper.user.pk,
        hold_id=hold.hold_id,
        extend_seconds=60,
    )

    # then one line per place, each at the price category's price
    assert [(line.seat_id, line.price) for line in confirmed.lines] == [
        (None, Decimal("25")),
        (None, Decimal("25")),
    ]
    assert [line.label for line in confirmed.lines] == [
        "Standing (standing) 1/2",
        "Standing (standing) 2/2",
    ]
    assert confirmed.total == Decimal("50")


def test_access_verify_needs_a_token_and_access_event_id_reads_its_audience(event):
    shopper = Shopper(event)
    with pytest.raises(AccessTokenMissing):
        inventory.access_verify(token="", user=shopper.user, event_id=event.pk)
    assert inventory.access_event_id(token=shopper.token) == event.pk
    assert (
        inventory.access_verify(
            token=shopper.token, user=shopper.user, event_id=event.pk
        )
        == shopper.grant.claims.session_id
    )
    with pytest.raises(AccessTokenInvalid):
        inventory.access_event_id(token="not-a-jwt")
