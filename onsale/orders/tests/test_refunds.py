"""Refunds: a fan's cancellation within the event's refund policy
(order_cancel, refund_policy_set, refund_policy_allows)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from onsale.orders.models import RefundPolicy
from onsale.orders.refunds import order_refunded_by_provider, refund_policy_set
from onsale.orders.tests.helpers import buy
from onsale.payments.fake.models import FakeProviderCharge, FakeProviderRefund
from onsale.platform.redis import redis_client
from onsale.seatselection.keys import seat_changes_channel
from onsale.seatselection.models import Seat, SeatSale
from onsale.testutils.checkout import assert_error, seat_unavailable
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_cancel_within_policy_refunds_and_puts_the_seats_back_on_sale_live(event):
    seats = seat_ids(event)[:2]
    shopper, order, _ = buy(event, seats)
    ticket = order.tickets.first()
    pubsub = redis_client().pubsub()
    pubsub.subscribe(seat_changes_channel(event.pk))
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    response = shopper.client.post(f"/api/v1/orders/{order.pk}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "cancelled"
    assert response.json()["refunded_amount"] == "100.00"
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("cancelled", Decimal("100.00"))
    [charge] = FakeProviderCharge.objects.all()
    assert charge.amount_refunded == charge.amount
    assert FakeProviderRefund.objects.count() == 1
    assert SeatSale.objects.count() == 0
    assert not any(seat_unavailable(event, seat) for seat in seats)
    message = pubsub.get_message(timeout=2)
    pubsub.close()
    indexes = sorted(Seat.objects.filter(pk__in=seats).values_list("index", flat=True))
    assert sorted(json.loads(message["data"])["freed"]) == indexes
    # tickets are void: no QR any more
    assert shopper.client.get(f"/api/v1/tickets/{ticket.pk}/qr.png").status_code == 404
    # a second cancel is refused and refunds nothing more
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "order_not_cancellable",
    )
    assert FakeProviderRefund.objects.count() == 1
    # and someone else can buy the seats
    _, _, response = buy(event, seats)
    assert response.status_code == 201


def test_cancel_outside_the_refund_policy_is_refused_and_changes_nothing(event):
    shopper, order, _ = buy(event, seat_ids(event)[:1])
    refund_policy_set(event=event, refunds_allowed=True, cutoff_hours=24 * 31)
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "refund_window_closed",
    )
    RefundPolicy.objects.filter(event=event).update(
        refunds_allowed=False, cutoff_hours=0
    )
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "refund_window_closed",
    )
    order.refresh_from_db()
    assert order.state == "paid"
    assert FakeProviderRefund.objects.count() == 0
    assert SeatSale.objects.count() == 1


def test_default_policy_closes_refunds_before_the_event(event, settings):
    settings.ORDERS_REFUND_CUTOFF_HOURS = 48
    from onsale.orders.refunds import refund_policy_allows

    assert refund_policy_allows(event=event)
    assert not refund_policy_allows(
        event=event, at=event.starts_at - timedelta(hours=47)
    )


def test_concurrent_cancels_refund_once(event):
    shopper, order, _ = buy(event, seat_ids(event)[:2])
    barrier = threading.Barrier(10)

    def cancel(_: int) -> int:
        client = APIClient()
        client.force_authenticate(shopper.user)
        barrier.wait()
        try:
            return client.post(f"/api/v1/orders/{order.pk}/cancel").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(cancel, range(10)))
    assert sorted(statuses) == [200] + [409] * 9
    assert FakeProviderRefund.objects.count() == 1


def test_order_refunded_by_provider_in_full_refunds_the_order(event):
    # given a paid order of two seats
    seats = seat_ids(event)[:2]
    _, order, _ = buy(event, seats)
    order.refresh_from_db()

    # when the provider reports a full refund made in its dashboard
    refunded = order_refunded_by_provider(
        charge_id=order.charge_id, amount_refunded=order.total, amount=order.total
    )

    # then the order is refunded, its tickets void and its seats on sale again
    assert refunded is not None
    assert (refunded.state, refunded.refunded_amount) == ("refunded", order.total)
    assert not order.tickets.filter(voided_at__isnull=True).exists()
    assert SeatSale.objects.count() == 0
    assert not any(seat_unavailable(event, seat) for seat in seats)


def test_order_refunded_by_provider_in_part_only_records_the_amount(event):
    # given a paid order
    seats = seat_ids(event)[:2]
    _, order, _ = buy(event, seats)
    order.refresh_from_db()

    # when the provider reports a partial refund
    refunded = order_refunded_by_provider(
        charge_id=order.charge_id, amount_refunded=Decimal("10.00"), amount=order.total
    )

    # then only the amount is recorded: still paid, tickets and seats kept
    assert refunded is not None
    assert (refunded.state, refunded.refunded_amount) == ("paid", Decimal("10.00"))
    assert order.tickets.filter(voided_at__isnull=True).count() == 2
    assert SeatSale.objects.count() == 2


def test_order_refunded_by_provider_for_an_unknown_charge_changes_nothing(event):
    # given a paid order
    _, order, _ = buy(event, seat_ids(event)[:1])

    # when / then: a charge we do not know is ignored
    assert (
        order_refunded_by_provider(
            charge_id="ch_unknown", amount_refunded=Decimal("50"), amount=Decimal("50")
        )
        is None
    )
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("paid", Decimal("0"))
