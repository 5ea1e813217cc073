"""Tests of checkout/services.py's saga steps and webhook entry point, called
directly."""

from __future__ import annotations

import pytest

from onsale.checkout.exceptions import WebhookSignatureRejected
from onsale.checkout.services import (
    Buyer,
    checkout_charge_give_up,
    checkout_order_place,
    checkout_result_get,
    checkout_submit,
    payment_webhook_receive,
)
from onsale.orders.models import Order
from onsale.payments import payment_gateway
from onsale.payments.fake.cards import DECLINE_CARD, SUCCESS_CARD
from onsale.payments.fake.models import FakeProviderEvent
from onsale.payments.models import WebhookReceipt
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import Shopper, seat_unavailable
from onsale.testutils.payments import card
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)

BUYER = Buyer(name="Ada Fan", email="ada@example.test")


def _place(shopper: Shopper, seats: list[int]) -> Order:
    """Saga step 1 only: a pending order owning `seats`."""
    return checkout_order_place(
        user=shopper.user,
        event_id=shopper.event.pk,
        hold_id=shopper.hold(seats).hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=BUYER,
        payment_token=payment_gateway().tokenize(source=card(SUCCESS_CARD)),
    )


def _submit(shopper: Shopper, seats: list[int], number: str):
    return checkout_submit(
        user=shopper.user,
        event_id=shopper.event.pk,
        hold_id=shopper.hold(seats).hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=BUYER,
        source=card(number),
    )


def test_checkout_submit_pays_for_the_hold(event):
    # given an admitted fan holding two seats
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]

    # when they pay with a good card
    result = _submit(shopper, seats, SUCCESS_CARD)

    # then the order is paid and owns the seats
    assert (result.outcome, result.reason) == ("paid", "")
    order = Order.objects.get(user=shopper.user)
    assert (order.pk, order.state) == (result.order.pk, "paid")
    assert order.buyer_email == "ada@example.test"
    assert SeatSale.objects.filter(order_reference=str(order.pk)).count() == 2


def test_checkout_submit_with_a_declined_card_fails_and_keeps_the_hold(event):
    # given an admitted fan holding a seat
    shopper = Shopper(event)
    seats = seat_ids(event)[:1]

    # when the card is declined
    result = _submit(shopper, seats, DECLINE_CARD)

    # then the order failed and nothing stays sold; the fan keeps the hold
    # (until its own expiry) to pay again, and without it the seat is free
    assert result.outcome == "failed"
    assert result.order.state == "failed"
    assert result.reason == result.order.failure_reason != ""
    assert result.hold_expires_at is not None
    assert SeatSale.objects.count() == 0
    assert seat_unavailable(event, seats[0])
    _release(result.order)
    assert not seat_unavailable(event, seats[0])


def _release(order: Order) -> None:
    seat_services.hold_release(
        event_id=order.event_id, hold_id=order.hold_id, user_id=order.user_id
    )


def test_checkout_charge_give_up_fails_a_pending_order(event):
    # given a pending order whose charge outcome stayed unknown
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    order = _place(shopper, seats)

    # when checkout gives up on it
    closed = checkout_charge_give_up(order_id=order.pk)

    # then it is failed for payment_timeout and its sales released; its seats
    # are on sale again once the fan's hold goes
    order.refresh_from_db()
    assert closed is True
    assert (order.state, order.failure_reason) == ("failed", "payment_timeout")
    assert SeatSale.objects.count() == 0
    _release(order)
    assert not any(seat_unavailable(event, seat) for seat in seats)
    # and giving up again changes nothing
    assert checkout_charge_give_up(order_id=order.pk) is False


def test_checkout_charge_give_up_leaves_a_paid_order_alone(event):
    # given a paid order
    result = _submit(Shopper(event), seat_ids(event)[:1], SUCCESS_CARD)

    # when / then
    assert checkout_charge_give_up(order_id=result.order.pk) is False
    order = Order.objects.get(pk=result.order.pk)
    assert (order.state, order.failure_reason) == ("paid", "")
    assert SeatSale.objects.count() == 1


def test_checkout_result_get_reports_where_the_saga_stands(event):
    # given a pending order and a paid one
    pending = _place(Shopper(event), seat_ids(event)[:1])
    paid = _submit(Shopper(event), seat_ids(event)[1:2], SUCCESS_CARD).order

    # when / then
    assert checkout_result_get(order_id=pending.pk).outcome == "pending"
    result = checkout_result_get(order_id=paid.pk)
    assert (result.order.pk, result.outcome) == (paid.pk, "paid")


def test_payment_webhook_receive_processes_once(event):
    # given a paid order and the provider's charge.succeeded event for it
    paid = _submit(Shopper(event), seat_ids(event)[:1], SUCCESS_CARD).order
    provider_event = FakeProviderEvent.objects.get(type="charge.succeeded")
    payload, headers = payment_gateway().webhook_request(event_id=provider_event.pk)

    # when it is delivered twice
    first = payment_webhook_receive(payload=payload, headers=headers)
    second = payment_webhook_receive(payload=payload, headers=headers)

    # then the first is processed, the second acknowledged as a duplicate
    assert (first, second) == (True, False)
    assert WebhookReceipt.objects.filter(event_id=provider_event.pk).count() == 1
    assert Order.objects.get(pk=paid.pk).state == "paid"


def test_payment_webhook_receive_rejects_a_bad_signature(event):
    # given a provider event whose body was altered after signing
    _submit(Shopper(event), seat_ids(event)[:1], SUCCESS_CARD)
    provider_event = FakeProviderEvent.objects.get(type="charge.succeeded")
    payload, headers = payment_gateway().webhook_request(event_id=provider_event.pk)

    # when / then: refused, and nothing recorded
    with pytest.raises(WebhookSignatureRejected):
        payment_webhook_receive(payload=payload + b" ", headers=headers)
    assert WebhookReceipt.objects.count() == 0
