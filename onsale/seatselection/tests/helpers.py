"""Helpers for the hold tests: parallel runs and a look at the Redis state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from onsale.platform.redis import redis_client
from onsale.seatselection import services
from onsale.seatselection.keys import seat_key

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
    return dict(redis_client().hgetall(seat_key(event_id, "holds")))


def fan_counts(event_id: int) -> dict[str, str]:
    return dict(redis_client().hgetall(seat_key(event_id, "fans")))
