"""The shared pub/sub hub (onsale.platform.pubsub) against the real Redis: one
subscription per channel however many listeners, every listener gets every
message, leaving unsubscribes and gives the connection back, and a lost
connection ends every listener instead of leaving it deaf."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from django.conf import settings

from onsale.platform.pubsub import (
    LISTENER_BACKLOG,
    SubscriptionLost,
    channel_hub,
    channel_listen,
)
from onsale.platform.redis import redis_client


def _channel() -> str:
    return f"{settings.REDIS_KEY_PREFIX}test-channel-{uuid.uuid4().hex}"


def _subscribers(channel: str) -> int:
    ((_, count),) = redis_client().pubsub_numsub(channel)
    return int(count)


async def _until(check: Any, timeout: float = 5) -> bool:
    for _ in range(int(timeout / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return bool(check())


def test_listeners_share_one_subscription_and_the_last_one_gives_it_back():
    channel = _channel()

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        hub = channel_hub()
        async with channel_listen(channel) as first:
            async with channel_listen(channel) as second:
                seen["subscribers_two"] = _subscribers(channel)
                redis_client().publish(channel, "one")
                seen["first"] = await first.get(timeout=5)
                seen["second"] = await second.get(timeout=5)
            seen["subscribers_one"] = _subscribers(channel)
            redis_client().publish(channel, "two")
            seen["first_again"] = await first.get(timeout=5)
            seen["quiet"] = await first.get(timeout=0.1)
        seen["released"] = await _until(
            lambda: _subscribers(channel) == 0 and hub.pubsub is None
        )
        pool = hub.client.connection_pool
        seen["in_use"] = len(pool._in_use_connections)  # type: ignore[attr-defined]
        return seen

    seen = asyncio.run(scenario())

    assert seen["subscribers_two"] == 1
    assert (seen["first"], seen["second"]) == ("one", "one")
    assert seen["subscribers_one"] == 1
    assert (seen["first_again"], seen["quiet"]) == ("two", None)
    assert seen["released"]
    assert seen["in_use"] == 0


def test_a_cancelled_listener_is_removed():
    """A client that goes away cancels its task mid-wait: the listener leaves."""
    channel = _channel()

    async def scenario() -> tuple[int, int]:
        entered = asyncio.Event()

        async def listen() -> None:
            async with channel_listen(channel) as listener:
                entered.set()
                await listener.get(timeout=60)

        task = asyncio.create_task(listen())
        await entered.wait()
        during = _subscribers(channel)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await _until(lambda: _subscribers(channel) == 0)
        return during, _subscribers(channel)

    assert asyncio.run(scenario()) == (1, 0)


def test_a_lost_connection_ends_every_listener_and_the_next_one_reconnects():
    channel = _channel()

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        hub = channel_hub()
        async with channel_listen(channel) as first, channel_listen(channel) as second:
            assert hub.pubsub is not None and hub.pubsub.connection is not None
            writer = hub.pubsub.connection._writer  # type: ignore[attr-defined]
            host, port = writer.get_extra_info("sockname")[:2]
            redis_client().client_kill(f"{host}:{port}")
            for name, listener in (("first", first), ("second", second)):
                try:
                    seen[name] = await listener.get(timeout=5)
                except SubscriptionLost:
                    seen[name] = "lost"
        async with channel_listen(channel) as third:
            redis_client().publish(channel, "after")
            seen["third"] = await third.get(timeout=5)
        return seen

    seen = asyncio.run(scenario())

    assert seen == {"first": "lost", "second": "lost", "third": "after"}


def test_a_listener_that_falls_far_behind_is_cut_off():
    channel = _channel()

    async def scenario() -> list[str]:
        async with channel_listen(channel) as slow, channel_listen(channel) as quick:
            got: list[str] = []
            for number in range(LISTENER_BACKLOG + 5):
                redis_client().publish(channel, str(number))
                got.append(str(await quick.get(timeout=5)))
            assert got[-1] == str(LISTENER_BACKLOG + 4)
            items: list[str] = []
            with pytest.raises(SubscriptionLost):
                while True:
                    item = await slow.get(timeout=5)
                    assert item is not None
                    items.append(item)
            return items

    items = asyncio.run(scenario())

    # What it got before the cut is in order and without holes.
    assert items == [str(number) for number in range(len(items))]
    assert len(items) == LISTENER_BACKLOG
