"""The live availability stream: changes with versions, no database connection
held, and the resync after a rebuild."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import connection
from django.test import Client

from onsale.platform.redis import redis_client
from onsale.seatselection import selectors, streams
from onsale.seatselection.keys import seat_state_keys
from onsale.testutils.seats import hold, seat_ids


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
def test_availability_change_stream_says_hello_then_bye(seated_event):
    version, generation = selectors.availability_stream_position(
        event_id=seated_event.pk
    )

    items = list(
        streams.availability_change_stream(
            event_id=seated_event.pk, max_seconds=0, heartbeat_seconds=60
        )
    )

    assert [item.kind for item in items] == ["hello", "bye"]
    assert items[0].data == {
        "version": version,
        "generation": generation,
        "event_id": seated_event.pk,
    }


@pytest.mark.django_db
def test_availability_change_stream_async_says_hello_then_bye(seated_event):
    async def collect() -> list[streams.StreamItem]:
        return [
            item
            async for item in streams.availability_change_stream_async(
                event_id=seated_event.pk, max_seconds=0, heartbeat_seconds=60
            )
        ]

    items = asyncio.run(collect())

    assert [item.kind for item in items] == ["hello", "bye"]
    assert items[0].data["event_id"] == seated_event.pk


@pytest.mark.django_db(transaction=True)
def test_wsgi_streams_past_the_process_limit_are_refused_until_one_ends(
    seated_event, settings
):
    # given a WSGI process that serves two streams at once
    settings.SEAT_STREAM_WSGI_MAX_PER_PROCESS = 2
    settings.SEAT_STREAM_MAX_SECONDS = 30
    selectors.availability_snapshot(event_id=seated_event.pk)
    url = f"/api/v1/events/{seated_event.pk}/seats/stream"
    first, second = Client().get(url), Client().get(url)
    _frames(first, 2)
    _frames(second, 2)

    # a third is refused, with the one error shape and a time to retry
    refused = Client().get(url)
    assert (refused.status_code, refused["Retry-After"]) == (503, "30")
    assert refused.json()["code"] == "seat_stream_busy"
    # (pages and the snapshot are not limited)
    assert (
        Client().get(f"/api/v1/events/{seated_event.pk}/seats/availability").status_code
        == 200
    )

    # one that the server closes, even before it sent anything, gives its slot back
    first.close()
    unread = Client().get(url)
    assert unread.status_code == 200
    unread.close()
    again = Client().get(url)
    assert again.status_code == 200
    assert _frames(again, 2)[1][0] == "hello"
    again.close()
    second.close()
    assert streams._wsgi_streams_open == 0
