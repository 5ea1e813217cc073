"""Order creation and state changes (order_create)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from onsale.orders import inventory
from onsale.orders.models import Order
from onsale.orders.services import order_create
from onsale.platform.db import TransactionRequired
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import Shopper
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def _confirmed_hold(shopper: Shopper, seats: list[int]) -> inventory.CheckoutHold:
    hold = shopper.hold(seats)
    return inventory.hold_for_checkout(
        event_id=shopper.event.pk,
        user_id=shopper.user.pk,
        hold_id=hold.hold_id,
        extend_seconds=60,
    )


def test_order_create_makes_a_pending_order_with_its_lines_and_seat_sales(event):
    # given a hold of two stalls seats confirmed for checkout
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = _confirmed_hold(shopper, seats)

    # when the order is created in a transaction
    with transaction.atomic():
        order = order_create(
            user=shopper.user,
            hold=hold,
            session_id=shopper.grant.claims.session_id,
            buyer_name="Ada Fan",
            buyer_email="ada@example.test",
            payment_token="tok_4242424242424242",
        )

    # then it is pending, priced from MySQL, and owns its seats
    order.refresh_from_db()
    assert (order.state, order.total, order.currency) == (
        Order.State.PENDING,
        Decimal("100.00"),
        hold.currency,
    )
    assert sorted(order.lines.values_list("seat_id", flat=True)) == sorted(seats)
    assert SeatSale.objects.filter(order_reference=str(order.pk)).count() == 2


def test_order_create_refuses_to_run_outside_a_transaction(event):
    # given a confirmed hold
    shopper = Shopper(event)
    hold = _confirmed_hold(shopper, seat_ids(event)[:1])

    # when order_create is called without transaction.atomic(): refused
    with pytest.raises(TransactionRequired):
        order_create(
            user=shopper.user,
            hold=hold,
            session_id=shopper.grant.claims.session_id,
            buyer_name="Ada Fan",
            buyer_email="ada@example.test",
            payment_token="tok_4242424242424242",
        )

    # and nothing was written
    assert Order.objects.count() == 0 and SeatSale.objects.count() == 0
