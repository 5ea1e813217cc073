"""Holds: all or nothing under heavy parallelism, per-fan limits, expiry,
best available, general admission, release, replacement and confirmation."""

from __future__ import annotations

import math
import random
import threading
import time

import pytest

from onsale.platform.redis import redis_client
from onsale.seatselection import exceptions, selectors, services
from onsale.seatselection import layout as seat_layout
from onsale.seatselection.keys import seat_key
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.testutils.seats import (
    FAR_FUTURE,
    SMALL_MAP,
    active_holds,
    fan_counts,
    held_indexes,
    hold,
    run_parallel,
    seat_ids,
)
from onsale.testutils.timing import scaled


@pytest.fixture
def fans(db):
    return [UserFactory() for _ in range(8)]


@pytest.mark.django_db(transaction=True)
def test_200_threads_racing_for_the_same_10_seats(seated_event, fans):
    ids = seat_ids(seated_event)[:10]
    selectors.availability_snapshot(event_id=seated_event.pk)  # warm map and state

    def attempt(n: int):
        return hold(seated_event.pk, 100_000 + n, f"race-{n}", seat_ids=[ids[n % 10]])

    results = run_parallel(200, attempt)

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    losers = [r for r in results if not isinstance(r, selectors.Hold)]
    assert len(winners) == 10
    assert sorted(w.seat_ids[0] for w in winners) == sorted(ids)
    assert all(isinstance(r, exceptions.SeatsUnavailable) for r in losers)
    assert len(losers) == 190
    assert held_indexes(seated_event.pk) == set(range(10))
    assert len(active_holds(seated_event.pk)) == 10


@pytest.mark.django_db(transaction=True)
def test_overlapping_multi_seat_holds_are_all_or_nothing(seated_event):
    ids = seat_ids(seated_event)[:10]
    selectors.availability_snapshot(event_id=seated_event.pk)
    windows = [ids[start : start + 3] for start in range(8)]  # overlapping triples
    observed: list[set[int]] = []
    stop = threading.Event()

    def observe() -> None:
        while not stop.is_set():
            observed.append(held_indexes(seated_event.pk))

    observer = threading.Thread(target=observe)
    observer.start()
    try:
        results = run_parallel(
            120,
            lambda n: hold(
                seated_event.pk, 200_000 + n, f"multi-{n}", seat_ids=windows[n % 8]
            ),
        )
    finally:
        stop.set()
        observer.join()

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    assert winners
    won_sets = [set(w.seat_indexes) for w in winners]
    assert all(len(s) == 3 for s in won_sets)
    union = set().union(*won_sets)
    assert len(union) == 3 * len(won_sets)  # pairwise disjoint
    assert held_indexes(seated_event.pk) == union
    # No moment showed part of a hold: every observed set is a union of
    # whole winning holds.
    assert observed
    for snapshot in observed:
        assert snapshot <= union
        for seats in won_sets:
            assert seats <= snapshot or not (seats & snapshot)
    losers = [r for r in results if not isinstance(r, selectors.Hold)]
    assert all(isinstance(r, exceptions.SeatsUnavailable) for r in losers)


@pytest.mark.django_db(transaction=True)
def test_max_seats_per_fan_holds_under_parallel_requests(seated_event):
    ids = seat_ids(seated_event)
    selectors.availability_snapshot(event_id=seated_event.pk)
    fan_id = 300_000

    # 40 sessions of one fan at once, each for 2 other seats; the limit is 6.
    results = run_parallel(
        40,
        lambda n: hold(
            seated_event.pk,
            fan_id,
            f"limit-{n}",
            seat_ids=ids[2 * n : 2 * n + 2],
            max_seats_per_fan=6,
        ),
    )

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    assert len(winners) == 3
    refused = [r for r in results if isinstance(r, exceptions.SeatLimitReached)]
    assert len(refused) == 37
    assert fan_counts(seated_event.pk) == {str(fan_id): "6"}
    assert len(held_indexes(seated_event.pk)) == 6


@pytest.mark.django_db(transaction=True)
def test_general_admission_never_exceeds_capacity(seated_event):
    selectors.availability_snapshot(event_id=seated_event.pk)

    results = run_parallel(
        150,
        lambda n: hold(
            seated_event.pk, 400_000 + n, f"ga-{n}", category="GA", quantity=1
        ),
    )

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    assert len(winners) == 100  # the capacity
    assert all(
        isinstance(r, exceptions.NotEnoughSeats)
        for r in results
        if not isinstance(r, selectors.Hold)
    )
    snapshot = selectors.availability_snapshot(event_id=seated_event.pk)
    assert snapshot.general_admission == {"GA": 0}


@pytest.mark.django_db
def test_holds_expire_and_free_their_seats(seated_event, settings):
    # A second on an idle machine: the refused hold must still find the first
    # one in place on a busy one.
    lifetime = math.ceil(scaled(1))
    settings.SEAT_HOLD_SECONDS = lifetime
    ids = seat_ids(seated_event)
    first = hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])
    with pytest.raises(exceptions.SeatsUnavailable):
        hold(seated_event.pk, 2, "s2", seat_ids=ids[1:3])

    time.sleep(lifetime + 0.2)

    second = hold(seated_event.pk, 2, "s2", seat_ids=ids[1:3])
    assert second.hold_id > first.hold_id
    assert held_indexes(seated_event.pk) == {1, 2}
    assert fan_counts(seated_event.pk) == {"2": "2"}
    assert list(active_holds(seated_event.pk)) == [str(second.hold_id)]


@pytest.mark.django_db
def test_quiet_events_release_expired_holds_through_the_sweep(seated_event, settings):
    settings.SEAT_HOLD_SECONDS = 1
    hold(seated_event.pk, 1, "s1", seat_ids=seat_ids(seated_event)[:3])
    time.sleep(1.2)

    assert services.holds_expire(event_id=seated_event.pk) == 1
    assert held_indexes(seated_event.pk) == set()
    assert fan_counts(seated_event.pk) == {}


@pytest.mark.django_db
def test_a_hold_never_outlives_the_session(seated_event):
    # A few seconds ahead: the hold is made while the session still runs even
    # if the clock turns a second before the script reads it, yet the session
    # ends long before the hold's own minutes would.
    session_end = int(time.time()) + 5

    held = services.hold_create(
        event_id=seated_event.pk,
        user_id=1,
        session_id="short",
        session_expires_at=session_end,
        seat_ids=seat_ids(seated_event)[:1],
        max_seats_per_fan=6,
    )

    assert held.expires_at.timestamp() <= session_end
    with pytest.raises(exceptions.HoldSessionEnded):
        services.hold_create(
            event_id=seated_event.pk,
            user_id=1,
            session_id="over",
            session_expires_at=int(time.time()) - 1,
            seat_ids=seat_ids(seated_event)[5:6],
            max_seats_per_fan=6,
        )
    assert held_indexes(seated_event.pk) == {0}


@pytest.mark.django_db
def test_best_available_gives_adjacent_seats_in_the_best_row(seated_event):
    ids = seat_ids(seated_event)
    # Row A (indexes 0-9): taking 2, 5 and 8 leaves no three adjacent seats.
    hold(seated_event.pk, 1, "blocker", seat_ids=[ids[2], ids[5], ids[8]])

    best = hold(seated_event.pk, 2, "s2", category="A", quantity=3)

    seats = [
        seat_layout.seat_layout_get(event_id=seated_event.pk).seat(i)
        for i in best.seat_indexes
    ]
    assert best.adjacent is True
    assert {seat.row for seat in seats} == {"B"}
    labels = sorted(int(seat.label) for seat in seats)
    assert labels == [labels[0], labels[0] + 1, labels[0] + 2]
    assert labels in ([4, 5, 6], [5, 6, 7])  # the middle of the row


@pytest.mark.django_db
def test_best_available_falls_back_to_separate_seats(event):
    seatmap_replace(
        event=event,
        data={
            "categories": [{"code": "A", "price": "10"}],
            "generate": [
                {"section": "S", "rows": 2, "seats_per_row": 3, "category": "A"}
            ],
        },
    )
    ids = seat_ids(event)
    hold(event.pk, 1, "blocker", seat_ids=[ids[1], ids[4]])  # the middle of both rows

    scattered = hold(event.pk, 2, "s2", category="A", quantity=3)

    assert scattered.adjacent is False
    assert sorted(scattered.seat_indexes) == [0, 2, 3]
    with pytest.raises(exceptions.NotEnoughSeats):
        hold(event.pk, 3, "s3", category="A", quantity=2)


@pytest.mark.django_db(transaction=True)
def test_parallel_best_available_requests_never_share_seats(seated_event):
    selectors.availability_snapshot(event_id=seated_event.pk)

    results = run_parallel(
        40,
        lambda n: hold(
            seated_event.pk, 500_000 + n, f"best-{n}", category="A", quantity=2
        ),
    )

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    seats = [i for w in winners for i in w.seat_indexes]
    assert len(seats) == len(set(seats))
    assert set(seats) == held_indexes(seated_event.pk)
    assert len(winners) == 25  # 50 seats in A, two each: all of them went
    assert all(
        isinstance(r, exceptions.NotEnoughSeats)
        for r in results
        if not isinstance(r, selectors.Hold)
    )


@pytest.mark.django_db
def test_a_new_hold_replaces_the_sessions_previous_one(seated_event):
    ids = seat_ids(seated_event)
    first = hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])

    second = hold(seated_event.pk, 1, "s1", seat_ids=ids[1:4])

    assert second.replaced_hold_id == first.hold_id
    assert held_indexes(seated_event.pk) == {1, 2, 3}
    assert list(active_holds(seated_event.pk)) == [str(second.hold_id)]
    assert fan_counts(seated_event.pk) == {"1": "3"}


@pytest.mark.django_db
def test_a_failed_replacement_keeps_the_old_hold(seated_event):
    ids = seat_ids(seated_event)
    first = hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])
    hold(seated_event.pk, 2, "other", seat_ids=ids[5:6])

    with pytest.raises(exceptions.SeatsUnavailable) as failure:
        hold(seated_event.pk, 1, "s1", seat_ids=ids[4:6])

    assert failure.value.extra == {"seat_ids": [ids[5]]}
    assert held_indexes(seated_event.pk) == {0, 1, 5}
    assert str(first.hold_id) in active_holds(seated_event.pk)


@pytest.mark.django_db
def test_only_the_owner_releases_a_hold(seated_event):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])

    with pytest.raises(exceptions.HoldNotFound):
        services.hold_release(event_id=seated_event.pk, hold_id=held.hold_id, user_id=2)
    assert held_indexes(seated_event.pk) == {0, 1}

    services.hold_release(event_id=seated_event.pk, hold_id=held.hold_id, user_id=1)

    assert held_indexes(seated_event.pk) == set()
    assert fan_counts(seated_event.pk) == {}
    with pytest.raises(exceptions.HoldNotFound):
        services.hold_release(event_id=seated_event.pk, hold_id=held.hold_id, user_id=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("seats", "code"),
    [
        ([], "hold_no_seats"),
        (["dup"], "hold_duplicate_seats"),
        (["unknown"], "hold_unknown_seats"),
        (["many"], "hold_too_many_seats"),
    ],
)
def test_bad_seat_lists_hold_nothing(seated_event, seats, code):
    ids = seat_ids(seated_event)
    other = EventFactory()
    seatmap_replace(event=other, data=SMALL_MAP)
    request = {
        "dup": [ids[0], ids[1], ids[0]],
        "unknown": [ids[0], seat_ids(other)[0]],
        "many": ids[:21],
    }.get(seats[0] if seats else "", seats)

    with pytest.raises(exceptions.HoldRequestInvalid) as failure:
        hold(seated_event.pk, 1, "s1", seat_ids=request)

    assert failure.value.code == code
    assert held_indexes(seated_event.pk) == set()
    assert active_holds(seated_event.pk) == {}


@pytest.mark.django_db
def test_hold_ids_always_increase(seated_event):
    ids = seat_ids(seated_event)
    order = list(range(20))
    random.shuffle(order)
    seen = [hold(seated_event.pk, n, f"s{n}", seat_ids=[ids[n]]).hold_id for n in order]

    assert seen == sorted(seen)
    assert len(set(seen)) == 20


def test_far_future_is_in_the_future():
    assert time.time() < FAR_FUTURE


@pytest.mark.django_db
def test_every_hold_outcome_is_counted_as_a_business_event(seated_event):
    from prometheus_client import REGISTRY

    def count(name: str) -> float:
        return (
            REGISTRY.get_sample_value("onsale_business_events_total", {"name": name})
            or 0.0
        )

    created, rejected = count("HoldCreated"), count("HoldRejected")
    ids = seat_ids(seated_event)

    hold(seated_event.pk, 1, "s1", seat_ids=ids[:2])
    with pytest.raises(exceptions.SeatsUnavailable):
        hold(seated_event.pk, 2, "s2", seat_ids=ids[1:3])

    assert (count("HoldCreated"), count("HoldRejected")) == (created + 1, rejected + 1)


def test_control_check_then_set_across_two_round_trips_double_books():
    """The race the hold script closes, shown without it: read a seat's bit,
    then set it, in two round trips. Many threads get the same seat."""

    client = redis_client()
    key = seat_key(0, "control")

    def naive(n: int) -> bool:
        seat = n % 10
        if client.getbit(key, seat):
            return False
        time.sleep(0.001)  # the gap between the two round trips
        client.setbit(key, seat, 1)
        return True

    winners = sum(1 for won in run_parallel(200, naive) if won is True)

    assert winners > 10  # more holders than seats


@pytest.mark.django_db
def test_holds_follow_a_replaced_map_at_once(seated_event):
    old_ids = seat_ids(seated_event)
    stale = hold(seated_event.pk, 1, "s1", seat_ids=old_ids[:1])
    # Replaced without its after-commit step (as if that process died):
    # Redis still has the old layout and this process a fresh copy of it.
    seatmap_replace(
        event=seated_event,
        data={
            "categories": [{"code": "N", "price": "5"}],
            "generate": [
                {"section": "New", "rows": 1, "seats_per_row": 4, "category": "N"}
            ],
        },
    )
    new_ids = seat_ids(seated_event)

    fresh = hold(seated_event.pk, 2, "s2", seat_ids=new_ids[1:3])

    assert fresh.seat_ids == tuple(new_ids[1:3])
    assert held_indexes(seated_event.pk) == {1, 2}  # the old hold is gone
    with pytest.raises(exceptions.HoldExpired):
        services.hold_confirm(
            event_id=seated_event.pk, hold_id=stale.hold_id, user_id=1
        )
    with pytest.raises(exceptions.HoldRequestInvalid) as unknown:
        hold(seated_event.pk, 3, "s3", seat_ids=old_ids[:1])
    assert unknown.value.code == "hold_unknown_seats"


@pytest.mark.django_db(transaction=True)
def test_hold_confirm_returns_the_priced_hold_and_can_extend_it(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=[ids[0], ids[-1]])

    confirmed = services.hold_confirm(
        event_id=seated_event.pk,
        hold_id=held.hold_id,
        user_id=fan.pk,
        extend_seconds=3600,
    )

    assert confirmed.seat_ids == (ids[0], ids[-1])
    assert [str(line.unit_price) for line in confirmed.lines] == ["50.00", "30.50"]
    assert str(confirmed.total) == "80.50"
    assert confirmed.expires_at.timestamp() >= time.time() + 3590
    with pytest.raises(exceptions.HoldExpired):
        services.hold_confirm(
            event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk + 1
        )


def test_hold_extension_end_gives_the_hold_back_its_own_expiry(seated_event, fan):
    # given a hold extended for a payment far past its own expiry
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    for _ in range(2):  # extended twice: its own expiry is kept once
        services.hold_confirm(
            event_id=seated_event.pk,
            hold_id=held.hold_id,
            user_id=fan.pk,
            extend_seconds=3600,
        )

    # when the payment failed, the extension ends
    expires = services.hold_extension_end(
        event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
    )

    # then the hold lives until its own expiry, no longer, and still holds
    assert expires == held.expires_at
    confirmed = services.hold_confirm(
        event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
    )
    assert confirmed.expires_at == held.expires_at
    assert held_indexes(seated_event.pk) == {0}
    # ending it again changes nothing; another user's call finds no hold
    assert (
        services.hold_extension_end(
            event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
        )
        == held.expires_at
    )
    assert (
        services.hold_extension_end(
            event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk + 1
        )
        is None
    )


@pytest.mark.django_db
def test_best_available_candidates_offers_adjacent_runs_best_row_first(seated_event):
    layout = seat_layout.seat_layout_get(event_id=seated_event.pk, fresh=True)

    candidates = services.best_available_candidates(
        layout=layout, category="A", quantity=2, is_free=lambda index: True, limit=3
    )

    assert len(candidates) == 3
    assert all(candidate.adjacent for candidate in candidates)
    assert all(len(candidate.indexes) == 2 for candidate in candidates)
    assert (
        services.best_available_candidates(
            layout=layout, category="A", quantity=2, is_free=lambda index: False
        )
        == []
    )
