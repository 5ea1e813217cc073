"""A randomized run of 500 checkouts with injected failures, then the fake
provider's ledger reconciled with the orders: no charge without an order, no
paid order without its seats, no closed order keeping seats or money."""

from __future__ import annotations

import contextlib
import random
import smtplib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.db import OperationalError, connection

from onsale.orders import fulfilment, inventory, refunds
from onsale.orders import tasks as order_tasks
from onsale.orders.ledger_reconcile import fake_ledger_reconcile
from onsale.orders.models import Order
from onsale.payments import payment_gateway_override
from onsale.payments.fake.cards import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    SUCCESS_CARD,
    TIMEOUT_CARD,
)
from onsale.payments.fake.gateway import FakeGateway
from onsale.payments.fake.models import FakeProviderCharge, FakeProviderEvent
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import HoldNotFound
from onsale.seatselection.models import Seat, SeatSale
from onsale.seatselection.selectors import availability_snapshot
from onsale.testutils.checkout import Shopper, checkout_body, seated_event

BIG_MAP = {
    "categories": [
        {"code": "A", "name": "Stalls", "price": "42.00"},
        {"code": "B", "name": "Balcony", "price": "19.90"},
    ],
    "generate": [
        {"section": "Stalls", "rows": 25, "seats_per_row": 40, "category": "A"},
        {"section": "Balcony", "rows": 10, "seats_per_row": 30, "category": "B"},
    ],
}

THREADS = 10
CARDS = (
    [SUCCESS_CARD] * 14 + [DECLINE_CARD] * 2 + [INSUFFICIENT_FUNDS_CARD, TIMEOUT_CARD]
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_ledger_reconciles_with_orders_after_500_checkouts_with_failures(
    settings, monkeypatch
):
    seed = 20261121
    rng = random.Random(seed)
    settings.WAITINGROOM_DEFAULT_MAX_ACTIVE = 100_000
    settings.CHECKOUT_CHARGE_MAX_RETRIES = 2
    event = seated_event(seatmap=BIG_MAP)
    # the provider times out on 15 % of calls, half of them after charging
    payment_gateway_override(
        FakeGateway(
            webhook_secret=settings.PAYMENT_WEBHOOK_SECRET,
            fault_rate=0.15,
            rng=random.Random(seed + 1),
        )
    )
    # workers die in the ticket step, the email step and the Redis put-back
    issue, send, put_back = (
        fulfilment.order_tickets_issue,
        fulfilment.order_tickets_email_send,
        inventory.seats_put_back,
    )

    def flaky_issue(**kwargs):
        if rng.random() < 0.2:
            raise OperationalError("worker lost before tickets")
        return issue(**kwargs)

    def flaky_send(**kwargs):
        if rng.random() < 0.2:
            raise smtplib.SMTPServerDisconnected("smtp went away")
        return send(**kwargs)

    def flaky_put_back(**kwargs):
        if rng.random() < 0.1:
            raise redis.exceptions.ConnectionError("redis blip after the MySQL commit")
        return put_back(**kwargs)

    monkeypatch.setattr(fulfilment, "order_tickets_issue", flaky_issue)
    monkeypatch.setattr(fulfilment, "order_tickets_email_send", flaky_send)

    settings.ORDERS_EMAIL_ATTACH_PDF = False
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def buyer(number: int) -> None:
        # each thread draws from its own seeded generator
        local = random.Random(seed + 100 + number)
        try:
            for _ in range(500 // THREADS):
                shopper = Shopper(event)
                hold = shopper.hold(
                    category=local.choice("AAB"), quantity=local.randint(1, 3)
                )
                body = checkout_body(hold.hold_id, card=local.choice(CARDS))
                key = uuid.uuid4().hex
                response = shopper.checkout(hold.hold_id, body=body, key=key)
                with lock:
                    statuses[response.status_code] = (
                        statuses.get(response.status_code, 0) + 1
                    )
                if local.random() < 0.1:  # the client retried: identical answer
                    again = shopper.checkout(hold.hold_id, body=body, key=key)
                    assert (again.status_code, again.json()) == (
                        response.status_code,
                        response.json(),
                    )
                if response.status_code != 201:
                    # a failed payment leaves the fan their hold; this fan
                    # gives up and lets the seats go (others would wait for
                    # the hold to run out)
                    with contextlib.suppress(HoldNotFound):
                        seat_services.hold_release(
                            event_id=event.pk,
                            hold_id=hold.hold_id,
                            user_id=shopper.user.pk,
                        )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(buyer, range(THREADS)))
    assert sum(statuses.values()) == 500
    assert set(statuses) <= {201, 202, 422}, statuses
    assert statuses.get(201, 0) > 250 and statuses.get(422, 0) > 50

    # fans cancel some paid orders, the provider's dashboard refunds others
    monkeypatch.setattr(inventory, "seats_put_back", flaky_put_back)
    paid = list(Order.objects.filter(state="paid").order_by("pk"))
    for order in rng.sample(paid, 40):
        refunds.order_cancel(order=order)
    gateway = FakeGateway(webhook_secret=settings.PAYMENT_WEBHOOK_SECRET)
    payment_gateway_override(gateway)
    from rest_framework.test import APIClient

    for order in rng.sample(list(Order.objects.filter(state="paid")), 10):
        refund = gateway.refund_from_dashboard(charge_id=order.charge_id)
        event_id = FakeProviderEvent.objects.get(
            type="charge.refunded", data__refund_id=refund.id
        ).id
        payload, headers = gateway.webhook_request(event_id=event_id)
        response = APIClient().generic(
            "POST",
            "/api/v1/payments/webhook",
            payload,
            content_type="application/json",
            HTTP_ONSALE_SIGNATURE=headers["Onsale-Signature"],
        )
        assert response.status_code == 200
    monkeypatch.setattr(inventory, "seats_put_back", put_back)
    # the periodic jobs heal what the blips left: expiry and Redis reconcile
    order_tasks.orders_expire_pending()
    from onsale.seatselection.seat_state import seats_sold_reconcile

    seats_sold_reconcile(event_id=event.pk)

    # then the ledger and the orders agree exactly
    assert fake_ledger_reconcile() == []
    assert Order.objects.filter(state="pending").count() == 0
    assert Order.objects.count() == 500
    for order in Order.objects.filter(state="paid"):
        assert order.tickets.count() == order.lines.count()
        assert order.emailed_at is not None
    assert (
        FakeProviderCharge.objects.filter(status="succeeded").count()
        >= Order.objects.filter(state__in=["paid", "cancelled", "refunded"]).count()
    )
    # and MySQL's sold seats are exactly what Redis shows sold (no holds left)
    sold = set(SeatSale.objects.values_list("seat_id", flat=True))
    snapshot = availability_snapshot(event_id=event.pk)
    shown = {
        seat_id
        for seat_id, index in Seat.objects.filter(event=event).values_list(
            "pk", "index"
        )
        if snapshot.is_unavailable(index)
    }
    assert len(sold) == Order.objects.filter(state="paid").values("lines").count()
    assert shown >= sold
    assert shown - sold == set() or (
        all(not Seat.objects.get(pk=seat_id).blocked for seat_id in shown - sold)
        and len(shown - sold) <= 0
    )
