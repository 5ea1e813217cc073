"""The seat stream's asynchronous path in this process (the ASGI server runs
the same code; test_stream_server.py drives it over sockets): the same frames
as the threaded path, and a quiet end when Redis cannot be reached."""

from __future__ import annotations

import asyncio
import logging

import pytest

from onsale.platform.pubsub import channel_hub
from onsale.seatselection import selectors, streams
from onsale.testutils.seats import hold, seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def _parse(frame: bytes) -> tuple[str, dict]:
    import json

    text = frame.decode()
    if text.startswith(":") or text.startswith("retry:"):
        return ("comment", {})
    fields = dict(line.split(": ", 1) for line in text.strip().split("\n"))
    return (fields["event"], json.loads(fields["data"]))


def test_the_async_stream_sends_what_the_threaded_one_sends(seated_event, settings):
    settings.SEAT_STREAM_HEARTBEAT_SECONDS = 0.2
    settings.SEAT_STREAM_MAX_SECONDS = 1
    ids = seat_ids(seated_event)
    before = selectors.availability_snapshot(event_id=seated_event.pk)

    async def scenario() -> tuple[list[bytes], list, set[str]]:
        frames = await streams._stream_open_async(seated_event.pk)
        head = [await anext(frames), await anext(frames)]  # retry, hello
        first = await asyncio.to_thread(
            hold, seated_event.pk, 1, "s1", seat_ids=ids[:2]
        )
        await asyncio.to_thread(hold, seated_event.pk, 1, "s1", seat_ids=ids[1:3])
        rest = [frame async for frame in frames]
        for _ in range(100):  # Redis confirms the UNSUBSCRIBE a moment later
            if not channel_hub().subscribed_channels():
                break
            await asyncio.sleep(0.02)
        return head + rest, [first], channel_hub().subscribed_channels()

    frames, (first,), still_subscribed = asyncio.run(scenario())

    parsed = [_parse(frame) for frame in frames]
    assert frames[0] == b"retry: 3000\n\n"
    assert parsed[1] == (
        "hello",
        {
            "version": before.version,
            "generation": before.generation,
            "event_id": seated_event.pk,
        },
    )
    changes = [data for kind, data in parsed if kind == "change"]
    assert changes == [
        {"v": first.version, "g": before.generation, "held": [0, 1]},
        {"v": first.version + 1, "g": before.generation, "held": [2], "freed": [0]},
    ]
    assert (
        f"id: {first.version}\n".encode()
        in frames[parsed.index(("change", changes[0]))]
    )
    assert b": heartbeat\n\n" in frames
    assert parsed[-1] == ("bye", {"reconnect": True})
    # The stream ended: nothing of it is left subscribed.
    assert still_subscribed == set()


def test_a_stream_opened_while_redis_is_unreachable_is_a_503(
    seated_event, settings, caplog, monkeypatch
):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import AsyncClient

    # The event check's thread, of this test alone: its database connection
    # is closed afterwards (the stream server test counts connections).
    checks = ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(streams, "_database_checks", checks)
    selectors.availability_snapshot(event_id=seated_event.pk)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.REDIS_SOCKET_TIMEOUT = 0.5

    async def scenario():
        # AsyncClient: the ASGI handler, as under the seatstream service.
        return await AsyncClient().get(f"/api/v1/events/{seated_event.pk}/seats/stream")

    with caplog.at_level(logging.WARNING, logger="onsale.seatselection.streams"):
        response = asyncio.run(scenario())
    checks.submit(lambda: connection.close()).result()
    checks.shutdown()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "dependency_unavailable"
    assert response.json()["extra"] == {"dependency": "redis"}
    assert "seat stream refused: Redis unavailable" in caplog.text


def test_a_stream_whose_subscription_is_lost_says_bye(seated_event, settings, caplog):
    settings.SEAT_STREAM_HEARTBEAT_SECONDS = 0.2
    settings.SEAT_STREAM_MAX_SECONDS = 5

    async def scenario() -> list[bytes]:
        frames = await streams._stream_open_async(seated_event.pk)
        head = [await anext(frames), await anext(frames)]  # retry, hello
        # The shared subscription's connection drops: its listeners are told.
        channel_hub()._end_all_listeners()
        return head + [frame async for frame in frames]

    with caplog.at_level(logging.WARNING, logger="onsale.seatselection.streams"):
        frames = asyncio.run(scenario())

    parsed = [_parse(frame) for frame in frames]
    assert frames[0] == b"retry: 3000\n\n"
    assert parsed[1][0] == "hello"
    # `bye`: the browser reconnects and compares versions with the snapshot.
    assert parsed[-1] == ("bye", {"reconnect": True})
    assert [kind for kind, _ in parsed].count("change") == 0


def test_open_streams_are_counted_while_open(seated_event, settings):
    from onsale.platform.observability.metrics import SEAT_STREAMS_OPEN

    settings.SEAT_STREAM_HEARTBEAT_SECONDS = 0.2
    settings.SEAT_STREAM_MAX_SECONDS = 0.5

    def open_now() -> float:
        return SEAT_STREAMS_OPEN._value.get()

    async def scenario() -> tuple[float, float, float, float]:
        before = open_now()
        first = await streams._stream_open_async(seated_event.pk)
        second = await streams._stream_open_async(seated_event.pk)
        await anext(first)
        await anext(second)
        both = open_now()
        await first.aclose()  # the client went away
        one = open_now()
        _ = [frame async for frame in second]  # time up: `bye`
        return before, both - before, one - before, open_now() - before

    _, both, one, after = asyncio.run(scenario())
    assert (both, one, after) == (2, 1, 0)
