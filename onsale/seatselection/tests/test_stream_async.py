"""The seat stream's asynchronous path in this process (the ASGI server runs
the same code; test_stream_server.py drives it over sockets): the same frames
as the threaded path, and a quiet end when Redis cannot be reached."""

from __future__ import annotations

import asyncio
import logging

import pytest

from onsale.platform.pubsub import channel_hub
from onsale.seatselection import selectors, streams
from onsale.seatselection.tests.conftest import seat_ids
from onsale.seatselection.tests.helpers import hold

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
        frames = streams._frames_async(seated_event.pk)
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


def test_the_async_stream_ends_quietly_when_redis_is_unreachable(
    seated_event, settings, caplog
):
    selectors.availability_snapshot(event_id=seated_event.pk)
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.REDIS_SOCKET_TIMEOUT = 0.5

    async def scenario() -> list[bytes]:
        return [frame async for frame in streams._frames_async(seated_event.pk)]

    with caplog.at_level(logging.WARNING, logger="onsale.seatselection.streams"):
        frames = asyncio.run(scenario())

    assert frames == [b"retry: 3000\n\n"]
    assert "seat stream ended: Redis unavailable" in caplog.text


def test_open_streams_are_counted_while_open(seated_event, settings):
    from onsale.platform.metrics import SEAT_STREAMS_OPEN

    settings.SEAT_STREAM_HEARTBEAT_SECONDS = 0.2
    settings.SEAT_STREAM_MAX_SECONDS = 0.5

    def open_now() -> float:
        return SEAT_STREAMS_OPEN._value.get()

    async def scenario() -> tuple[float, float, float, float]:
        before = open_now()
        first = streams._frames_async(seated_event.pk)
        second = streams._frames_async(seated_event.pk)
        await anext(first)
        await anext(second)
        both = open_now()
        await first.aclose()  # the client went away
        one = open_now()
        _ = [frame async for frame in second]  # time up: `bye`
        return before, both - before, one - before, open_now() - before

    _, both, one, after = asyncio.run(scenario())
    assert (both, one, after) == (2, 1, 0)
