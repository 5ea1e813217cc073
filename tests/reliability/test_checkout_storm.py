"""Drill: 500 checkouts through the HTTP API on 50 seats, with the app's
Redis flushed twice mid-sale.

100 admitted fans fight over 50 seats (two per seat), five attempts each
(hold, then POST /api/v1/checkout with a fresh Idempotency-Key), 24 at a
time. A flush forgets every hold and session: fans whose token is refused
are admitted again and retry. Afterwards: no seat sold twice, one paid order
per 201, no 5xx, and the fake provider's ledger reconciles with the orders.
"""

from __future__ import annotations

import contextlib
import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.orders.ledger_reconcile import fake_ledger_reconcile
from onsale.orders.models import Order
from onsale.platform.exceptions import DomainError
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import SeatSale
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.checkout import checkout_body
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.waitingroom.services import admission_session_start
from tests.faults.redis_server import RedisServer

SEATS = 50
FANS = 100
ATTEMPTS_PER_FAN = 5
WORKERS = 24  # concurrent requests (MariaDB's connections are shared)
SEAT_MAP: dict[str, Any] = {
    "categories": [{"code": "A", "name": "Stalls", "price": "40.00"}],
    "generate": [
        {"section": "Stalls", "rows": 5, "seats_per_row": 10, "category": "A"}
    ],
}


class Fan:
    def __init__(self, event: Event, seat: int) -> None:
        self.event = event
        self.user = UserFactory()
        self.seat = seat
        self.lock = threading.Lock()
        self.admit()

    def admit(self) -> None:
        self.grant = admission_session_start(
            event_id=self.event.pk, user_id=self.user.pk
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_500_checkouts_on_50_seats_with_redis_flushed_mid_sale(
    own_redis: RedisServer,
) -> None:
    event = EventFactory()
    seatmap_replace(event=event, data=SEAT_MAP)
    seats = list(event.seats.order_by("index").values_list("pk", flat=True))
    assert len(seats) == SEATS
    fans = [Fan(event, seats[number % SEATS]) for number in range(FANS)]
    jobs = [fan for fan in fans for _ in range(ATTEMPTS_PER_FAN)]
    random.Random(7).shuffle(jobs)
    outcomes: Counter[tuple[int, str]] = Counter()
    done = Counter[str]()
    guard = threading.Lock()
    flush_after = {len(jobs) // 3, 2 * len(jobs) // 3}

    def attempt(fan: Fan) -> None:
        try:
            with fan.lock:  # one fan, one browser tab at a time
                try:
                    hold = seat_services.hold_create(
                        event_id=event.pk,
                        user_id=fan.user.pk,
                        session_id=fan.grant.claims.session_id,
                        session_expires_at=fan.grant.claims.expires_at,
                        seat_ids=[fan.seat],
                    )
                except DomainError as exc:
                    result = (409, exc.code)
                else:
                    client = APIClient()
                    client.force_authenticate(fan.user)
                    response = client.post(
                        "/api/v1/checkout",
                        checkout_body(hold.hold_id),
                        format="json",
                        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
                        HTTP_X_ACCESS_TOKEN=fan.grant.token,
                    )
                    result = (response.status_code, response.json().get("code", ""))
                if result == (401, "access_session_ended"):
                    # Redis forgot the session: back through the room.
                    with contextlib.suppress(DomainError):
                        fan.admit()
            with guard:
                outcomes[result] += 1
                done["requests"] += 1
                if done["requests"] in flush_after:
                    redis.Redis(port=own_redis.port).flushall()
                    done["flushes"] += 1
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(attempt, jobs))

    sales = list(SeatSale.objects.filter(event=event).values_list("seat_id", flat=True))
    per_seat = Counter(sales)
    paid = Order.objects.filter(state=Order.State.PAID).count()
    print(  # the figures docs/reliability.md quotes
        f"\n[checkout-storm] attempts={len(jobs)} fans={FANS} seats={SEATS} "
        f"flushes={done['flushes']} sold={len(sales)} paid_orders={paid} "
        f"outcomes={dict(outcomes)}"
    )
    assert done["requests"] == len(jobs)
    assert done["flushes"] == 2
    assert not [key for key in outcomes if key[0] >= 500]
    assert max(per_seat.values()) == 1  # no seat sold twice
    assert outcomes[(201, "")] == paid == len(sales)
    assert fake_ledger_reconcile() == []  # no charge without an order, no double
