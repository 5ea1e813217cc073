"""Writing seat maps: replacing a map (all or nothing, locked once the on-sale
started, versions and renumbering) and blocking seats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.seatselection import layout as seat_layout
from onsale.seatselection import selectors
from onsale.seatselection.models import Seat, SeatMap
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import (
    FULL_MAP,
    SMALL_MAP,
    seat_ids,
    seatmap_counts,
    seatmap_url,
)

pytestmark = pytest.mark.django_db


def test_a_failed_write_leaves_the_old_map(seated_event, monkeypatch):
    before = set(seat_ids(seated_event))

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    # The write fails where it locks the seat map, after the old seats are gone.
    monkeypatch.setattr(SeatMap.objects, "all", explode)
    with pytest.raises(RuntimeError):
        seatmap_replace(event=seated_event, data=FULL_MAP)

    assert set(seat_ids(seated_event)) == before


def test_only_the_events_organizers_may_load_a_map(organizer_client, fan_client):
    other = EventFactory()

    assert (
        organizer_client.put(seatmap_url(other), FULL_MAP, format="json").status_code
        == 404
    )
    assert (
        fan_client.put(seatmap_url(other), FULL_MAP, format="json").status_code == 403
    )
    assert seatmap_counts(other) == (0, 0, 0)


def test_map_is_locked_once_the_onsale_started(organizer_client, organizer):
    event = EventFactory(
        organization=organizer.organization,
        onsale_at=timezone.now() - timedelta(minutes=1),
    )
    # Loaded before the start (a draft may always change).
    event.status = "draft"
    event.save()
    seatmap_replace(event=event, data=SMALL_MAP)
    event.status = "published"
    event.save()

    response = organizer_client.put(seatmap_url(event), FULL_MAP, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "seatmap_locked"
    assert Seat.objects.filter(event=event).count() == 80


def test_replacing_raises_the_version_and_renumbers(
    organizer_client, seated_event, django_capture_on_commit_callbacks
):
    first = organizer_client.get(seatmap_url(seated_event))

    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.put(
            seatmap_url(seated_event), FULL_MAP, format="json"
        )

    assert response.json()["layout_version"] == 2
    second = organizer_client.get(seatmap_url(seated_event))
    assert first["ETag"] != second["ETag"]
    assert second.json()["seat_count"] == 5
    assert seat_layout.seat_layout_get(event_id=seated_event.pk).seat_count == 5


def test_blocking_seats_makes_them_unavailable(
    organizer_client, seated_event, django_capture_on_commit_callbacks
):
    ids = seat_ids(seated_event)
    url = f"/api/v1/organizer/events/{seated_event.pk}/seatmap/blocked"
    selectors.availability_snapshot(event_id=seated_event.pk)  # state built

    with django_capture_on_commit_callbacks(execute=True):
        blocked = organizer_client.post(
            url, {"seat_ids": ids[:2], "blocked": True}, format="json"
        )
    snapshot = selectors.availability_snapshot(event_id=seated_event.pk)

    assert blocked.status_code == 200
    assert [snapshot.is_unavailable(i) for i in range(3)] == [True, True, False]

    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(
            url, {"seat_ids": ids[:1], "blocked": False}, format="json"
        )
    snapshot = selectors.availability_snapshot(event_id=seated_event.pk)
    assert [snapshot.is_unavailable(i) for i in range(3)] == [False, True, False]


def test_blocking_unknown_seats_changes_nothing(organizer_client, seated_event):
    other = EventFactory()
    seatmap_replace(event=other, data=SMALL_MAP)
    foreign = seat_ids(other)[0]
    url = f"/api/v1/organizer/events/{seated_event.pk}/seatmap/blocked"

    response = organizer_client.post(
        url,
        {"seat_ids": [seat_ids(seated_event)[0], foreign], "blocked": True},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["extra"]["seat_ids"] == [foreign]
    assert Seat.objects.filter(blocked=True).count() == 0
