"""The event every benchmark sells from: one published event whose map is a
single "Arena" section of 50-seat rows, its seat state built and its map cached.

Needs Django set up; it imports the models only when called, so the runner can
import this module before `django.setup()`.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onsale.events.models import Event

ROW = 50


def bench_event_create(*, seats: int, name: str, open_now: bool) -> Event:
    """At least `seats` seats (rounded up to whole rows). The map is set while
    the on-sale is still ahead, as an organizer must set it; with `open_now`
    the on-sale then opens, for scenarios that go through the fan's API (the
    hold scenario calls the services directly and leaves it closed)."""
    from django.utils import timezone

    from onsale.events.models import Event
    from onsale.seatselection import selectors
    from onsale.seatselection.seatmaps.write import seatmap_replace
    from onsale.usermgmt.models import Organization

    organization, _ = Organization.objects.get_or_create(name="Benchmark")
    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        name=name,
        venue_name="Arena",
        onsale_at=now + timedelta(days=1),
        starts_at=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
    )
    seatmap_replace(
        event=event,
        data={
            "categories": [{"code": "A", "name": "Arena", "price": "50.00"}],
            "generate": [
                {
                    "section": "Arena",
                    "rows": max(1, math.ceil(seats / ROW)),
                    "seats_per_row": ROW,
                    "category": "A",
                }
            ],
        },
    )
    if open_now:
        Event.objects.filter(pk=event.pk).update(onsale_at=now - timedelta(minutes=1))
        event.refresh_from_db()
    selectors.availability_snapshot(event_id=event.pk)
    return event
