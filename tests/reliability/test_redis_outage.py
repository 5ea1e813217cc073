"""Drill: Redis is killed (kill -9) mid-sale and comes back EMPTY.

While it is down, every Redis endpoint answers 503 with the error shape (not
500) and /readyz is 503. After the restart: seats sold in MySQL are rebuilt
into Redis before any hold is granted, fans re-join, and the admitted count
never exceeds max_active.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.seatselection import sales as seat_sales
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import SeatsUnavailable
from onsale.seatselection.models import SeatSale
from onsale.testutils.factories import UserFactory
from onsale.waitingroom import services as room_services
from onsale.waitingroom.admission import admission_evaluate
from tests.faults.redis_server import RedisServer
from tests.reliability.conftest import (
    assert_unavailable,
    assert_unavailable_page,
    client_of,
    room_open,
    seat_ids,
)

MAX_ACTIVE = 3


def _buy(event: Event, user: Any, seat: int) -> None:
    grant = room_services.admission_session_start(event_id=event.pk, user_id=user.pk)
    hold = seat_services.hold_create(
        event_id=event.pk,
        user_id=user.pk,
        session_id=grant.claims.session_id,
        session_expires_at=grant.claims.expires_at,
        seat_ids=[seat],
    )
    with transaction.atomic():
        seat_sales.sale_record(
            hold=seat_services.hold_confirm(
                event_id=event.pk, hold_id=hold.hold_id, user_id=user.pk
            )
        )
    room_services.admission_session_end(
        event_id=event.pk, session_id=grant.claims.session_id
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_redis_killed_mid_sale_then_restarted_empty(
    own_redis: RedisServer, seated_event: Event
) -> None:
    event = seated_event
    seats = seat_ids(event)
    room_open(
        event, max_active=MAX_ACTIVE, burst=50, rate_per_minute=6000, claim_seconds=60
    )
    buyers = UserFactory.create_batch(2)
    for buyer, seat in zip(buyers, seats[:2], strict=True):
        _buy(event, buyer, seat)
    # A fan mid-sale: admitted, holding a seat, token in hand.
    shopper = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=shopper.pk)
    shopper_client = client_of(shopper, token=grant.token)
    held = shopper_client.post(
        f"/api/v1/events/{event.pk}/holds", {"seats": [seats[2]]}, format="json"
    )
    assert held.status_code == 201, held.content
    newcomer = client_of(UserFactory(), ip="10.0.0.9")

    # Fault: kill -9 the Redis the app uses.
    own_redis.kill()

    assert_unavailable(newcomer.post(f"/api/v1/events/{event.pk}/queue"))
    assert_unavailable(APIClient().get(f"/api/v1/events/{event.pk}/queue/status"))
    assert_unavailable(newcomer.get(f"/api/v1/events/{event.pk}/queue/me"))
    assert_unavailable(
        shopper_client.post(
            f"/api/v1/events/{event.pk}/holds", {"seats": [seats[3]]}, format="json"
        )
    )
    ready = APIClient().get("/readyz")
    assert_unavailable(ready)
    assert ready.json()["extra"]["failed"] == ["redis"]
    # Nothing completed was lost: MySQL still has both sales.
    assert SeatSale.objects.filter(event=event).count() == 2

    # Recovery: the same port, an EMPTY Redis.
    own_redis.start()
    assert own_redis.dbsize() == 0
    assert APIClient().get("/readyz").status_code == 200

    # The old session died with Redis: its token is refused, the fan re-joins.
    stale = shopper_client.post(
        f"/api/v1/events/{event.pk}/holds", {"seats": [seats[3]]}, format="json"
    )
    assert stale.status_code == 401
    assert stale.json()["code"] == "access_session_ended"

    # Sold seats are rebuilt from MySQL before any hold: a fan admitted
    # after the restart cannot hold a seat that was sold before it.
    late = UserFactory()
    late_grant = room_services.admission_session_start(
        event_id=event.pk, user_id=late.pk
    )
    with pytest.raises(SeatsUnavailable):
        seat_services.hold_create(
            event_id=event.pk,
            user_id=late.pk,
            session_id=late_grant.claims.session_id,
            session_expires_at=late_grant.claims.expires_at,
            seat_ids=[seats[0]],
        )
    snapshot = client_of(late).get(f"/api/v1/events/{event.pk}/seats/availability")
    assert snapshot.status_code == 200
    room_services.admission_session_end(
        event_id=event.pk, session_id=late_grant.claims.session_id
    )

    # Fans re-join; admissions never pass max_active.
    fans = UserFactory.create_batch(8)
    numbers = []
    for number, fan in enumerate(fans):
        joined = client_of(fan, ip=f"10.1.0.{number}").post(
            f"/api/v1/events/{event.pk}/queue"
        )
        assert joined.status_code == 201, joined.content
        numbers.append(joined.json()["number"])
        room = admission_evaluate(event_id=event.pk)
        assert room.active + room.admitted_unclaimed <= MAX_ACTIVE
    assert sorted(numbers) == list(range(1, 9))
    room = admission_evaluate(event_id=event.pk)
    assert room.active + room.admitted_unclaimed == MAX_ACTIVE
    claimed = [
        client_of(fan).get(f"/api/v1/events/{event.pk}/queue/me").json()["state"]
        for fan in fans
    ]
    assert claimed.count("active") == MAX_ACTIVE
    assert claimed.count("waiting") == len(fans) - MAX_ACTIVE
    assert SeatSale.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_the_queue_page_with_redis_down_is_the_503_page_never_a_500(
    own_redis: RedisServer, seated_event: Event
) -> None:
    event = seated_event
    room_open(event)
    page = f"/events/{event.pk}/queue"
    fan = Client()
    fan.force_login(UserFactory())
    assert fan.post(page).status_code == 302  # joined
    assert fan.get(page).status_code == 200

    own_redis.kill()

    for client in (fan, Client()):
        response = client.get(page)
        assert_unavailable_page(response, place_kept=True)
        # The page tries again by itself: the fan keeps polling.
        assert 'http-equiv="refresh"' in response.content.decode()
    joined = fan.post(page)
    assert_unavailable_page(joined, place_kept=True)
    assert 'http-equiv="refresh"' not in joined.content.decode()

    own_redis.start()
    assert fan.get(page).status_code == 200
