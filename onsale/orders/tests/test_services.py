"""Order creation and state changes (order_create)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from onsale.orders import inventory
from onsale.orders.models import Order, Ticket
from onsale.orders.services import (
    order_create,
    order_fail,
    order_mark_paid,
    order_refund_ensure,
    order_refund_ensure_or_retry,
    order_seats_put_back_or_retry,
    order_transition,
)
from onsale.orders.tests.helpers import buy
from onsale.payments import Charge, payment_gateway
from onsale.payments.fake.cards import SUCCESS_CARD
from onsale.payments.fake.models import FakeProviderCharge, FakeProviderRefund
from onsale.platform.db import TransactionRequired
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import Shopper, seat_unavailable
from onsale.testutils.payments import card
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


def _pending_order(event, seats: list[int]) -> tuple[Shopper, Order]:
    """A pending order of `seats`, as checkout leaves it before the charge."""
    shopper = Shopper(event)
    hold = _confirmed_hold(shopper, seats)
    with transaction.atomic():
        order = order_create(
            user=shopper.user,
            hold=hold,
            session_id=shopper.grant.claims.session_id,
            buyer_name="Ada Fan",
            buyer_email="ada@example.test",
            payment_token="tok_4242424242424242",
        )
    return shopper, order


def _charge(order: Order) -> Charge:
    return payment_gateway().charge(
        idempotency_key=order.payment_key,
        amount=order.total,
        currency=order.currency,
        source=card(SUCCESS_CARD),
    )


def test_order_transition_moves_only_from_the_given_states(event):
    # given a pending order
    _, order = _pending_order(event, seat_ids(event)[:1])

    # when it is moved pending -> failed
    moved = order_transition(
        order_id=order.pk,
        from_states=[Order.State.PENDING],
        to_state=Order.State.FAILED,
        failure_reason="test",
    )

    # then it moved, with the field set in the same update
    order.refresh_from_db()
    assert moved is True
    assert (order.state, order.failure_reason) == ("failed", "test")

    # and a second move from pending loses and changes nothing
    assert (
        order_transition(
            order_id=order.pk,
            from_states=[Order.State.PENDING],
            to_state=Order.State.PAID,
            failure_reason="other",
        )
        is False
    )
    order.refresh_from_db()
    assert (order.state, order.failure_reason) == ("failed", "test")


def test_order_mark_paid_pays_and_fulfils_a_pending_order(event):
    # given a pending order charged at the provider
    _, order = _pending_order(event, seat_ids(event)[:2])
    charge = _charge(order)

    # when
    paid = order_mark_paid(order_id=order.pk, charge=charge)

    # then it is paid with that charge, and its tickets were issued
    assert (paid.state, paid.charge_id) == ("paid", charge.id)
    assert paid.paid_at is not None
    assert Ticket.objects.filter(order_id=order.pk).count() == 2
    assert FakeProviderRefund.objects.count() == 0


def test_order_mark_paid_refunds_a_charge_for_a_closed_order(event):
    # given an order that failed while its charge was in flight
    _, order = _pending_order(event, seat_ids(event)[:1])
    assert order_fail(order_id=order.pk, reason="timeout") is True
    charge = _charge(order)

    # when the charge is reported
    result = order_mark_paid(order_id=order.pk, charge=charge)

    # then the order stays failed, no ticket, and the charge is refunded
    assert result.state == "failed"
    assert not Ticket.objects.filter(order_id=order.pk).exists()
    order.refresh_from_db()
    assert order.refunded_amount == order.total
    assert FakeProviderRefund.objects.count() == 1


def test_order_fail_closes_a_pending_order_and_gives_its_seats_back(event):
    # given a pending order of two seats
    seats = seat_ids(event)[:2]
    _, order = _pending_order(event, seats)

    # when it fails
    moved = order_fail(order_id=order.pk, reason="card_declined")

    # then it is failed and its sales released; the fan still holds the
    # seats (to pay again) and once the hold goes they are on sale again
    order.refresh_from_db()
    assert moved is True
    assert (order.state, order.failure_reason, order.live_hold_id) == (
        "failed",
        "card_declined",
        None,
    )
    assert SeatSale.objects.count() == 0
    assert all(seat_unavailable(event, seat) for seat in seats)
    seat_services.hold_release(
        event_id=event.pk, hold_id=order.hold_id, user_id=order.user_id
    )
    assert not any(seat_unavailable(event, seat) for seat in seats)
    # and failing it again changes nothing
    assert order_fail(order_id=order.pk, reason="again") is False
    order.refresh_from_db()
    assert order.failure_reason == "card_declined"


def test_order_fail_leaves_a_paid_order_alone(event):
    # given a paid order
    _, order, _ = buy(event, seat_ids(event)[:1])

    # when / then: it is not failed, and nothing changed
    assert order_fail(order_id=order.pk, reason="late") is False
    order.refresh_from_db()
    assert (order.state, order.failure_reason) == ("paid", "")
    assert SeatSale.objects.count() == 1
    assert FakeProviderRefund.objects.count() == 0


def test_order_seats_put_back_or_retry_puts_released_seats_back_on_sale(event):
    # given a paid order whose seat sales were released in MySQL only
    seats = seat_ids(event)[:2]
    _, order, _ = buy(event, seats)
    with transaction.atomic():
        inventory.sales_release(order=order)
    assert all(seat_unavailable(event, seat) for seat in seats)

    # when
    order_seats_put_back_or_retry(order=order)

    # then the seats are on sale again in Redis
    assert not any(seat_unavailable(event, seat) for seat in seats)


def test_order_refund_ensure_refunds_closed_orders_only_once(event):
    # given a paid order
    _, order, _ = buy(event, seat_ids(event)[:1])

    # when / then: a paid order is not refunded
    assert order_refund_ensure(order_id=order.pk) is False
    assert FakeProviderRefund.objects.count() == 0

    # given the order is closed
    Order.objects.filter(pk=order.pk).update(state=Order.State.CANCELLED)

    # when / then: its charge is refunded, once
    assert order_refund_ensure(order_id=order.pk) is True
    assert order_refund_ensure(order_id=order.pk) is False
    order.refresh_from_db()
    assert order.refunded_amount == order.total
    assert FakeProviderRefund.objects.count() == 1


def test_order_refund_ensure_or_retry_refunds_a_closed_order(event):
    # given a closed order holding a charge
    _, order, _ = buy(event, seat_ids(event)[:1])
    Order.objects.filter(pk=order.pk).update(state=Order.State.REFUNDED)

    # when
    order_refund_ensure_or_retry(order_id=order.pk)

    # then the charge is refunded in full
    order.refresh_from_db()
    assert order.refunded_amount == order.total
    [charge] = FakeProviderCharge.objects.all()
    assert charge.amount_refunded == charge.amount
