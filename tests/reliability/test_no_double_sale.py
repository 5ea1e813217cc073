"""Drill: no seat is ever sold twice, even when Redis forgets the holds.

Redis is the front line (one Lua script per hold); MySQL's UNIQUE (event,
seat) on SeatSale is the last one. These drills take Redis out of the way
mid-sale (FLUSHALL on the drill's own redis-server) and count the rows.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
import redis
from django.db import connection, transaction

from onsale.events.models import Event
from onsale.platform.exceptions import DomainError
from onsale.seatselection import sales as seat_sales
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import SeatAlreadySold
from onsale.seatselection.models import SeatSale
from onsale.testutils.factories import UserFactory
from tests.faults.redis_server import RedisServer
from tests.reliability.conftest import seat_ids

FAR_FUTURE = 4_000_000_000  # a session end that never comes


def _hold(event: Event, user_id: int, seats: list[int]) -> Any:
    return seat_services.hold_create(
        event_id=event.pk,
        user_id=user_id,
        session_id=f"drill-{user_id}",
        session_expires_at=FAR_FUTURE,
        seat_ids=seats,
        max_seats_per_fan=1000,
    )


def _sell(event: Event, user_id: int, hold_id: int) -> Any:
    with transaction.atomic():
        return seat_sales.sale_record(
            hold=seat_services.hold_confirm(
                event_id=event.pk, hold_id=hold_id, user_id=user_id
            ),
            order_reference=f"drill-{user_id}-{hold_id}",
        )


@pytest.mark.django_db(transaction=True)
def test_unique_constraint_stops_a_double_sale_after_redis_forgot_the_hold(
    own_redis: RedisServer, seated_event: Event
) -> None:
    """The worst interleaving, made deterministic: fan A's sale is written but
    not committed; Redis is flushed; fan B is granted the same seat (Redis
    rebuilt from MySQL, where A's row is not yet visible) and tries to sell
    it. MySQL makes B wait on A's row and then refuses B."""
    event = seated_event
    seat = seat_ids(event)[0]
    fan_a, fan_b = UserFactory(), UserFactory()
    hold_a = _hold(event, fan_a.pk, [seat])
    a_written, b_waiting = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def sell_a() -> None:
        try:
            with transaction.atomic():
                seat_sales.sale_record(
                    hold=seat_services.hold_confirm(
                        event_id=event.pk, hold_id=hold_a.hold_id, user_id=fan_a.pk
                    )
                )
                a_written.set()
                b_waiting.wait(10)
                time.sleep(0.5)  # B is now blocked on A's index record
            outcome["a"] = "sold"
        except Exception as exc:
            outcome["a"] = exc
        finally:
            connection.close()

    def sell_b(hold_id: int) -> None:
        try:
            _sell(event, fan_b.pk, hold_id)
            outcome["b"] = "sold"
        except Exception as exc:
            outcome["b"] = exc
        finally:
            connection.close()

    thread_a = threading.Thread(target=sell_a)
    thread_a.start()
    assert a_written.wait(10)
    redis.Redis(port=own_redis.port).flushall()  # the fault: Redis forgets all
    hold_b = _hold(event, fan_b.pk, [seat])  # granted: MySQL shows no sale yet
    assert hold_b.hold_id != hold_a.hold_id
    thread_b = threading.Thread(target=sell_b, args=(hold_b.hold_id,))
    thread_b.start()
    b_waiting.set()
    thread_a.join(30)
    thread_b.join(30)

    assert outcome["a"] == "sold"
    assert isinstance(outcome["b"], SeatAlreadySold)
    assert list(
        SeatSale.objects.filter(event=event).values_list("seat_id", "user_id")
    ) == [(seat, fan_a.pk)]


@pytest.mark.django_db(transaction=True)
def test_many_parallel_buyers_with_redis_flushed_mid_sale(
    own_redis: RedisServer, seated_event: Event
) -> None:
    """60 fans, 20 seats, each fan loops hold -> sell on a random free-looking
    seat while a saboteur flushes the drill's Redis three times. Every seat is
    sold exactly once, and every sale a fan was told about is in MySQL."""
    event = seated_event
    seats = seat_ids(event)
    fans = UserFactory.create_batch(60)
    sold_to: list[tuple[int, int]] = []  # (seat, user) acknowledged
    refused: Counter[str] = Counter()
    attempts = Counter[str]()
    lock = threading.Lock()
    start = threading.Barrier(len(fans) + 1)
    stop_at = time.monotonic() + 20

    def fan_loop(user_id: int) -> None:
        picker = random.Random(user_id)
        try:
            start.wait()
            while time.monotonic() < stop_at:
                taken = {seat for seat, _ in sold_to}
                free = [seat for seat in seats if seat not in taken]
                if not free:
                    return
                seat = picker.choice(free)
                with lock:
                    attempts["hold"] += 1
                try:
                    hold = _hold(event, user_id, [seat])
                    _sell(event, user_id, hold.hold_id)
                except DomainError as exc:
                    with lock:
                        refused[exc.code] += 1
                    continue
                except redis.exceptions.ConnectionError:
                    with lock:
                        refused["redis_down"] += 1
                    continue
                with lock:
                    sold_to.append((seat, user_id))
                return  # one seat per fan
        finally:
            connection.close()

    threads = [threading.Thread(target=fan_loop, args=(f.pk,)) for f in fans]
    for thread in threads:
        thread.start()
    start.wait()
    flushes = 0
    for _ in range(3):
        time.sleep(0.15)
        redis.Redis(port=own_redis.port).flushall()
        flushes += 1
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)

    rows = list(SeatSale.objects.filter(event=event).values_list("seat_id", "user_id"))
    per_seat = Counter(seat for seat, _ in rows)
    assert per_seat and max(per_seat.values()) == 1  # no seat sold twice
    assert sorted(rows) == sorted(sold_to)  # nothing acknowledged was lost
    assert len(rows) == len(seats)  # and the drill sold the house
    assert flushes == 3
    print(  # the figures docs/reliability.md quotes
        f"\n[no-double-sale] fans={len(fans)} seats={len(seats)} flushes={flushes} "
        f"holds={attempts['hold']} sold={len(rows)} refused={dict(refused)} "
        f"double_sales={sum(c - 1 for c in per_seat.values())}"
    )
