from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import permutations
from typing import Any

import pytest
from django.db import connection

from onsale.events import exceptions as event_exceptions
from onsale.platform.redis import redis_client
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import admission, exceptions, scripts, services
from onsale.waitingroom.clock import clock_inject
from onsale.waitingroom.draw import (
    DRAW_METHOD,
    prequeue_numbers,
    prequeue_permutation,
)
from onsale.waitingroom.keys import place_bucket_key, waitingroom_key
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import queue_status_get


def _join(event_id: int, user_id: int, ip: str = "198.51.100.7") -> Any:
    return services.queue_join(event_id=event_id, user_id=user_id, ip=ip)


@pytest.mark.django_db
def test_join_is_idempotent(make_room):
    # given an open room that admits nobody for now
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    # when a fan joins twice
    first = _join(room.event_id, 41)
    second = _join(room.event_id, 41)
    # then they keep one place
    assert (first.number, first.state, first.joined_now) == (1, "waiting", True)
    assert (second.number, second.state, second.joined_now) == (1, "waiting", False)
    assert queue_status_get(event_id=room.event_id).issued == 1
    # and once admitted, joining again says so
    reconfigure(room, state=WaitingRoomConfig.State.OPEN)
    third = _join(room.event_id, 41)
    assert (third.number, third.state, third.joined_now) == (1, "admitted", False)


@pytest.mark.django_db
def test_concurrent_joins_get_distinct_consecutive_numbers(make_room):
    # given an open room, its live copy already seeded
    room = make_room()
    fans = 1000
    workers = 100
    barrier = threading.Barrier(workers)

    def join_many(worker: int) -> list[int]:
        barrier.wait()
        return [
            _join(room.event_id, 10_000 + user).number
            for user in range(worker, fans, workers)
        ]

    # when 1,000 fans join at once from 100 threads
    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = [n for batch in pool.map(join_many, range(workers)) for n in batch]
    # then every fan has a different number and none is skipped
    assert sorted(numbers) == list(range(1, fans + 1))
    assert queue_status_get(event_id=room.event_id).issued == fans


@pytest.mark.django_db
def test_numbers_follow_join_order_with_no_inversions(make_room):
    # given an open room
    room = make_room()
    records: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def join_timed(user: int) -> None:
        started = time.perf_counter()
        number = _join(room.event_id, user).number
        ended = time.perf_counter()
        with lock:
            records.append((started, ended, number))

    # when 400 joins run from 16 threads
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(join_timed, range(1, 401)))
    # then a join that finished before another started has the lower number
    by_start = sorted(records)
    by_end = sorted(records, key=lambda record: record[1])
    finished_max = 0
    index = 0
    for started, _, number in by_start:
        while index < len(by_end) and by_end[index][1] < started:
            finished_max = max(finished_max, by_end[index][2])
            index += 1
        assert number > finished_max
    # and sequential joins are numbered in order
    sequential = [_join(room.event_id, user).number for user in range(1000, 1010)]
    assert sequential == list(range(401, 411))


@pytest.mark.django_db
def test_join_unknown_event_is_not_found_and_closed_is_refused(make_room):
    with pytest.raises(event_exceptions.EventNotFound):
        _join(987_654, 1)
    room = make_room(state=WaitingRoomConfig.State.CLOSED)
    with pytest.raises(exceptions.QueueClosed):
        _join(room.event_id, 1)
    status = queue_status_get(event_id=room.event_id)
    assert (status.state, status.issued, status.waiting) == ("closed", 0, 0)


@pytest.mark.django_db
def test_join_before_prequeue_opens_is_refused(make_room, t0):
    room = make_room(now_ms=t0, onsale_in=3600, prequeue_opens_in=600)
    with pytest.raises(exceptions.QueueNotOpen) as caught:
        _join(room.event_id, 1)
    assert caught.value.extra["prequeue_opens_at"] == room.prequeue_opens_at.isoformat()
    assert redis_client().hlen(place_bucket_key(room.event_id, 1)) == 0


@pytest.mark.django_db
def test_join_rate_limited_per_ip(make_room, settings):
    # given a limit of 3 joins per address and window
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 3
    room = make_room()
    for user in (1, 2, 3):
        _join(room.event_id, user, ip="203.0.113.9")
    # when the same address joins a fourth time
    with pytest.raises(exceptions.JoinRateLimited) as caught:
        _join(room.event_id, 4, ip="203.0.113.9")
    # then it is refused with a retry hint and nothing changed
    assert 1 <= caught.value.retry_after <= 60
    assert queue_status_get(event_id=room.event_id).issued == 3
    # and another address still may
    assert _join(room.event_id, 4, ip="203.0.113.10").number == 4


@pytest.mark.django_db
def test_join_limit_is_per_event_and_counts_each_call_once(make_room, settings):
    # given a limit of 2 joins per address and window, and two rooms
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 2
    room, other = make_room(), make_room()
    # when each join finds the live config gone (the script asks for it to be
    # seeded from MySQL and runs again)
    for user in (1, 2):
        redis_client().delete(waitingroom_key(room.event_id, "cfg"))
        assert _join(room.event_id, user, ip="203.0.113.9").number == user
    # then each call counted once: the third is the one refused
    with pytest.raises(exceptions.JoinRateLimited):
        _join(room.event_id, 3, ip="203.0.113.9")
    # and the same address still may join another event
    assert _join(other.event_id, 3, ip="203.0.113.9").number == 1


@pytest.mark.django_db
def test_prequeue_draw_numbers_a_reproducible_permutation(make_room, t0):
    # given a pre-queue of 50 fans before the on-sale
    room = make_room(now_ms=t0, onsale_in=60)
    fans = [7 + 13 * i for i in range(50)]
    for user in fans:
        place = _join(room.event_id, user)
        assert (place.number, place.state) == (None, "prequeue")
    status = queue_status_get(event_id=room.event_id)
    assert (status.state, status.prequeue_size, status.draw) == ("prequeue", 50, None)
    # when the on-sale starts
    clock_inject(t0 + 60_000)
    status = queue_status_get(event_id=room.event_id)
    # then the draw is published and the places are a permutation of 1..50
    assert status.draw is not None
    assert (status.draw.size, status.draw.method) == (50, DRAW_METHOD)
    assert len(status.draw.seed) == 32
    numbers = {
        user: int(redis_client().hget(place_bucket_key(room.event_id, user), user))
        for user in fans
    }
    assert sorted(numbers.values()) == list(range(1, 51))
    # reproducible from the seed alone
    assert numbers == prequeue_numbers(seed=status.draw.seed, user_ids=fans)
    # and a joiner after the on-sale comes after the whole pre-queue
    late = _join(room.event_id, 999_999)
    assert (late.number, late.state) == (51, "waiting")
    assert _join(room.event_id, fans[0]).number == numbers[fans[0]]


@pytest.mark.django_db
def test_prequeue_is_drawn_exactly_once_under_racing_callers(make_room, t0):
    room = make_room(now_ms=t0, onsale_in=10)
    for user in range(1, 31):
        _join(room.event_id, user)
    clock_inject(t0 + 10_000)
    barrier = threading.Barrier(32)

    def draw(_: int) -> scripts.DrawResult:
        barrier.wait()
        return admission.prequeue_draw(event_id=room.event_id)

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(draw, range(32)))
    winners = [r for r in results if r.outcome == scripts.ScriptOutcome.OK]
    assert len(winners) == 1
    assert {r.seed for r in results} == {winners[0].seed}
    assert {r.size for r in results} == {30}
    issued = redis_client().hget(waitingroom_key(room.event_id, "q"), "issued")
    assert issued == "30"


def _chi_square(counts: list[int], expected: float) -> float:
    return sum((count - expected) ** 2 / expected for count in counts)


def test_draw_is_uniform_over_permutations(db):
    # given a pre-queue of 4 fans drawn 720 times with different seeds
    # (fixed, so the test is deterministic), straight through the script
    members = [3, 14, 15, 92]
    orders = dict.fromkeys(permutations(members), 0)
    draws = 720
    client = redis_client()
    for batch in range(0, draws, 60):
        batch_draws = range(batch, batch + 60)
        pipe = client.pipeline(transaction=False)
        for draw in batch_draws:
            event_id = 500_000 + draw
            config_key = waitingroom_key(event_id, "cfg")
            pipe.hset(config_key, mapping={"state": "open", "ev": "published"})
            pipe.hset(config_key, mapping={"pq_at": 0, "onsale": 0, "ver": 1})
            for user in members:
                pipe.hset(place_bucket_key(event_id, user), user, 0)
            pipe.hset(waitingroom_key(event_id, "q"), "pq", len(members))
            scripts.draw_queue_on(pipe, event_id=event_id, seed=f"{draw:032x}")
            for user in members:
                pipe.hget(place_bucket_key(event_id, user), user)
        replies = pipe.execute()
        per_draw = len(replies) // len(batch_draws)
        for index, draw in enumerate(batch_draws):
            reply = replies[index * per_draw : (index + 1) * per_draw]
            result = scripts.draw_result(reply[-len(members) - 1])
            assert result.outcome == scripts.ScriptOutcome.OK
            numbers = {
                user: int(value)
                for user, value in zip(members, reply[-len(members) :], strict=True)
            }
            # the Lua draw and the auditors' Python agree on every draw
            assert numbers == prequeue_numbers(seed=f"{draw:032x}", user_ids=members)
            orders[tuple(sorted(members, key=numbers.__getitem__))] += 1
    # then all 24 orders are equally likely: chi-square with 23 degrees of
    # freedom stays under 49.73 (p = 0.001)
    statistic = _chi_square(list(orders.values()), draws / len(orders))
    assert statistic < 49.73, orders
    # and each fan's number is uniform too (3 dof, p = 0.001: 16.27)
    for user in members:
        firsts = [
            sum(c for order, c in orders.items() if order.index(user) == slot)
            for slot in range(4)
        ]
        assert _chi_square(firsts, draws / 4) < 16.27


def test_draw_method_is_uniform_over_many_seeds():
    # The same method in Python (proved equal to the script above), 48,000
    # draws of 5 fans: 120 orders, chi-square with 119 dof under 173.6 (p=0.001).
    counts: dict[tuple[int, ...], int] = {}
    draws = 48_000
    for draw in range(draws):
        order = tuple(prequeue_permutation(seed=f"seed-{draw}", size=5))
        counts[order] = counts.get(order, 0) + 1
    assert sorted(counts) == sorted(permutations(range(5)))
    assert _chi_square(list(counts.values()), draws / 120) < 173.6


@pytest.mark.django_db(transaction=True)
def test_first_use_by_many_threads_creates_one_configuration(make_room):
    from onsale.testutils.factories import EventFactory

    event = EventFactory()
    barrier = threading.Barrier(12)

    def join(user: int) -> int | None:
        barrier.wait()
        try:
            return _join(event.pk, user).number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        numbers = list(pool.map(join, range(1, 13)))
    assert WaitingRoomConfig.objects.filter(event=event).count() == 1
    # the default room of a fresh event is in its pre-queue (on-sale in 5 min)
    assert numbers == [None] * 12
    assert queue_status_get(event_id=event.pk).prequeue_size == 12
