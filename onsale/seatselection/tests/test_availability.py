"""Availability: the one-second snapshot, the live stream, and the web page."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test import Client

from onsale.events.tests.factories import EventFactory
from onsale.platform.redis import redis_client
from onsale.seatselection import selectors
from onsale.seatselection.keys import seat_state_keys
from onsale.seatselection.tests.conftest import seat_ids
from onsale.seatselection.tests.helpers import hold


def _frames(response, count: int) -> list[tuple[str, dict]]:
    """The next `count` SSE events (comments and retry lines skipped)."""
    frames: list[tuple[str, dict]] = []
    for chunk in response.streaming_content:
        text = chunk.decode()
        if text.startswith(":") or text.startswith("retry:"):
            frames.append(("comment", {}))
        else:
            fields = dict(line.split(": ", 1) for line in text.strip().split("\n"))
            frames.append((fields["event"], json.loads(fields["data"])))
        if len(frames) >= count:
            break
    return frames


@pytest.mark.django_db
def test_snapshot_is_a_cacheable_bitmap(api_client, seated_event):
    ids = seat_ids(seated_event)
    hold(seated_event.pk, 1, "s1", seat_ids=[ids[0], ids[9], ids[79]])
    hold(seated_event.pk, 2, "s2", category="GA", quantity=5)

    response = api_client.get(f"/api/v1/events/{seated_event.pk}/seats/availability")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=1"
    body = response.json()
    bitmap = base64.b64decode(body["unavailable"])
    assert len(bitmap) == 10  # 80 seats
    taken = {i for i in range(80) if bitmap[i >> 3] & (0x80 >> (i & 7))}
    assert taken == {0, 9, 79}
    assert body["general_admission"] == {"GA": 95}
    assert (body["seat_count"], body["layout_version"]) == (80, 1)
    assert body["version"] >= 2


@pytest.mark.django_db
def test_snapshot_of_an_unpublished_event_is_404(api_client):
    draft = EventFactory(status="draft")

    response = api_client.get(f"/api/v1/events/{draft.pk}/seats/availability")

    assert response.status_code == 404


@pytest.mark.django_db
def test_stream_pushes_changes_with_versions(seated_event, settings):
    settings.SEAT_STREAM_HEARTBEAT_SECONDS = 0.2
    settings.SEAT_STREAM_MAX_SECONDS = 1
    ids = seat_ids(seated_event)
    before = selectors.availability_snapshot(event_id=seated_event.pk)

    response = Client().get(f"/api/v1/events/{seated_event.pk}/seats/stream")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    _retry, hello = _frames(response, 2)
    assert hello == (
        "hello",
        {
            "version": before.version,
            "generation": before.generation,
            "event_id": seated_event.pk,
        },
    )
    first = hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])
    hold(seated_event.pk, 1, "s1", seat_ids=ids[1:3])  # replaces: frees seat 0
    rest = _frames(response, 1000)  # everything until the stream ends
    changes = [data for kind, data in rest if kind == "change"]
    assert changes == [
        {"v": first.version, "g": before.generation, "held": [0, 1]},
        {"v": first.version + 1, "g": before.generation, "held": [2], "freed": [0]},
    ]
    assert ("comment", {}) in rest  # heartbeats
    assert rest[-1] == ("bye", {"reconnect": True})  # bounded lifetime


@pytest.mark.django_db(transaction=True)
def test_stream_holds_no_database_connection(seated_event, settings):
    settings.SEAT_STREAM_MAX_SECONDS = 1
    selectors.availability_snapshot(event_id=seated_event.pk)

    response = Client().get(f"/api/v1/events/{seated_event.pk}/seats/stream")
    _frames(response, 2)

    assert connection.connection is None
    response.close()


@pytest.mark.django_db
def test_stream_opened_while_redis_is_unreachable_is_a_503(seated_event, settings):
    selectors.availability_snapshot(event_id=seated_event.pk)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.REDIS_SOCKET_TIMEOUT = 0.5

    response = Client().get(f"/api/v1/events/{seated_event.pk}/seats/stream")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["code"] == "dependency_unavailable"


@pytest.mark.django_db
def test_stream_of_an_unknown_event_is_404(api_client):
    response = Client().get("/api/v1/events/999999/seats/stream")

    assert response.status_code == 404
    assert response.json()["code"] == "event_not_found"


@pytest.mark.django_db
def test_stream_tells_clients_to_resync_after_a_rebuild(seated_event, settings):
    settings.SEAT_STREAM_MAX_SECONDS = 1
    selectors.availability_snapshot(event_id=seated_event.pk)
    response = Client().get(f"/api/v1/events/{seated_event.pk}/seats/stream")
    _, hello = _frames(response, 2)

    redis_client().delete(*seat_state_keys(seated_event.pk))
    rebuilt = selectors.availability_snapshot(event_id=seated_event.pk)

    change = next(f for f in _frames(response, 10) if f[0] == "change")
    assert change[1]["refresh"] is True
    assert change[1]["g"] == rebuilt.generation != hello[1]["generation"]


@pytest.mark.django_db
def test_the_seat_page_renders_for_a_signed_in_fan(client, fan, seated_event):
    client.force_login(fan)

    response = client.get(f"/events/{seated_event.pk}/seats")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert f"/api/v1/events/{seated_event.pk}/seats/stream" in html
    assert "seatselection/seats.js" in html
    assert "csrftoken" in response.cookies
    # Once a hold is made the page links on to checkout (seats.js sets the href).
    assert 'id="seats-checkout"' in html


@pytest.mark.django_db
def test_the_seat_page_needs_a_login_and_a_published_event(client, fan):
    draft = EventFactory(status="draft")
    published = EventFactory()

    anonymous = client.get(f"/events/{published.pk}/seats")
    client.force_login(fan)
    hidden = client.get(f"/events/{draft.pk}/seats")

    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert hidden.status_code == 404
