"""Seat selection set-up shared by the tests of several apps and tests/: a
small seat map, the seat ids of an event, an admitted fan's API client,
holds through the service, parallel runs, and a look at the Redis state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.platform.redis import redis_client
from onsale.seatselection import sales, services
from onsale.seatselection.keys import seat_key
from onsale.seatselection.models import PriceCategory, Seat, Section

# A small venue: 5 rows x 10 seats in A, 3 rows x 10 in B, 100 standing places.
SMALL_MAP: dict[str, Any] = {
    "categories": [
        {"code": "A", "name": "Stalls", "price": "50.00"},
        {"code": "B", "name": "Balcony", "price": "30.50"},
        {
            "code": "GA",
            "name": "Standing",
            "price": "25",
            "general_admission": True,
            "capacity": 100,
        },
    ],
    "generate": [
        {"section": "Stalls", "rows": 5, "seats_per_row": 10, "category": "A"},
        {"section": "Balcony", "rows": 3, "seats_per_row": 10, "category": "B"},
    ],
}

# The seat map's full form with every field: categories with colours, an
# accessible seat, a blocked seat, a ranked row.
FULL_MAP: dict[str, Any] = {
    "categories": [
        {"code": "VIP", "name": "Front", "price": "120.00", "color": "#AA0000"},
        {"code": "STD", "name": "Standard", "price": 45.5},
    ],
    "sections": [
        {
            "name": "Floor",
            "rows": [
                {
                    "label": "A",
                    "seats": [
                        {
                            "label": "1",
                            "x": 0,
                            "y": 0,
                            "category": "VIP",
                            "accessibility": ["wheelchair", "companion"],
                        },
                        {"label": "2", "x": 1.5, "y": 0, "category": "VIP"},
                        {
                            "label": "3",
                            "x": 3,
                            "y": 0,
                            "category": "VIP",
                            "blocked": True,
                        },
                    ],
                },
                {
                    "label": "B",
                    "rank": 5,
                    "seats": [
                        {"label": "1", "x": 0, "y": 2, "category": "STD"},
                        {"label": "2", "x": 1.5, "y": 2, "category": "STD"},
                    ],
                },
            ],
        }
    ],
}


def seatmap_url(event: Event) -> str:
    """The organizer's seat-map endpoint of `event`."""
    return f"/api/v1/organizer/events/{event.pk}/seatmap"


def seatmap_counts(event: Event) -> tuple[int, int, int]:
    """How many seats, sections and price categories `event` has in MySQL."""
    return (
        Seat.objects.filter(event=event).count(),
        Section.objects.filter(event=event).count(),
        PriceCategory.objects.filter(event=event).count(),
    )


def seat_ids(event: Event, *, category: str | None = None) -> list[int]:
    """The event's seat ids in index order (optionally of one category)."""
    seats = event.seats.order_by("index")
    if category:
        seats = seats.filter(category__code=category)
    return list(seats.values_list("pk", flat=True))


def admitted_client(event: Event, user: Any) -> tuple[APIClient, Any]:
    """An API client of `user` carrying a fresh access token for `event`."""
    from onsale.waitingroom.services import admission_session_start

    grant = admission_session_start(event_id=event.pk, user_id=user.pk)
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_X_ACCESS_TOKEN=grant.token)
    return client, grant


FAR_FUTURE = 4_000_000_000  # a session end (epoch seconds) that never comes


def run_parallel(
    count: int, work: Callable[[int], Any], *, timeout: float = 60
) -> list[Any]:
    """Run work(0..count-1) in `count` threads that start together; returns
    each result or the exception it raised."""
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def runner(number: int) -> None:
        try:
            barrier.wait()
            results[number] = work(number)
        except Exception as exc:  # collected and asserted on by the test
            results[number] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "threads hung"
    return results


def hold(event_id: int, user_id: int, session: str, **kwargs: Any) -> Any:
    """A hold through seat selection's service for a session that never
    ends, with the per-fan limit out of the way unless given."""
    kwargs.setdefault("max_seats_per_fan", 1000)
    return services.hold_create(
        event_id=event_id,
        user_id=user_id,
        session_id=session,
        session_expires_at=FAR_FUTURE,
        **kwargs,
    )


def held_indexes(event_id: int) -> set[int]:
    """Seat indexes whose held bit is set in Redis."""
    raw = redis_client(decode=False).get(seat_key(event_id, "held")) or b""
    return {
        byte_number * 8 + bit
        for byte_number, byte in enumerate(raw)
        for bit in range(8)
        if byte & (0x80 >> bit)
    }


def active_holds(event_id: int) -> dict[str, str]:
    """The event's live holds in Redis (hold id -> its record)."""
    return dict(redis_client().hgetall(seat_key(event_id, "holds")))


def fan_counts(event_id: int) -> dict[str, str]:
    """Seats held per fan in Redis (user id -> count)."""
    return dict(redis_client().hgetall(seat_key(event_id, "fans")))


def sell(event_id: int, held: Any, user_id: int) -> None:
    """Sell the seats of `held` (a hold's result) as checkout does: fence the
    hold, then record the sale in a transaction."""
    with transaction.atomic():
        sales.sale_record(
            hold=services.hold_confirm(
                event_id=event_id, hold_id=held.hold_id, user_id=user_id
            ),
            order_reference="o-1",
        )


def sold_bits(event_id: int) -> set[int]:
    """The seat indexes the event's sold bitmap in Redis marks."""
    raw = redis_client(decode=False).get(seat_key(event_id, "sold")) or b""
    return {
        n * 8 + bit
        for n, byte in enumerate(raw)
        for bit in range(8)
        if byte & (0x80 >> bit)
    }
