"""Tests of a lapsed turn (services.queue_turn_reclaim, services.queue_rejoin):
taken back within the grace period, or exchanged for a place at the back."""

from __future__ import annotations

from typing import Any

import pytest

from onsale.platform.redis import redis_client
from onsale.testutils.checkout import seated_event
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import hold, run_parallel, sell
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import exceptions, services
from onsale.waitingroom.clock import clock_advance
from onsale.waitingroom.keys import waitingroom_key
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import queue_status_get
from onsale.waitingroom.services import QueuePlace, QueuePosition

IP = "192.0.2.10"
CLAIM = 30
GRACE = 60
ONE_SEAT: dict[str, Any] = {
    "categories": [{"code": "A", "name": "Stalls", "price": "10.00"}],
    "generate": [{"section": "Stalls", "rows": 1, "seats_per_row": 1, "category": "A"}],
}


@pytest.fixture(autouse=True)
def _grace(settings: Any) -> None:
    settings.WAITINGROOM_GRACE_SECONDS = GRACE


def _room(make_room: Any, t0: int, **fields: Any) -> WaitingRoomConfig:
    """One admission a minute (the first at once), a 30 s claim window."""
    fields = {
        "rate_per_minute": 1,
        "burst": 1,
        "max_active": 10,
        "claim_seconds": CLAIM,
        **fields,
    }
    return make_room(now_ms=t0, **fields)


def _join(event_id: int, *users: int) -> None:
    """Join the fans in order, then evaluate the room once (admitting the first)."""
    for user in users:
        services.queue_join(event_id=event_id, user_id=user, ip=IP)
    queue_status_get(event_id=event_id)


def _position(event_id: int, user: int) -> QueuePosition:
    return services.queue_position_get(event_id=event_id, user_id=user)


def _counts(event_id: int) -> tuple[int, int, int, int]:
    """(issued, lapsed, taken back, rejoined) as the room reports them."""
    status = queue_status_get(event_id=event_id)
    return (
        status.issued,
        status.turns_lapsed,
        status.turns_reclaimed,
        status.turns_rejoined,
    )


@pytest.mark.django_db
def test_queue_turn_reclaim_within_grace_keeps_the_number(make_room, t0):
    # Given fan 1 admitted first, two fans behind, and the claim window missed
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2, 3)
    assert _position(room.event_id, 1).state == "admitted"
    clock_advance(seconds=CLAIM)
    lapsed = _position(room.event_id, 1)
    assert lapsed.state == "lapsed"
    assert lapsed.grace_ends_at is not None
    assert int(lapsed.grace_ends_at.timestamp() * 1000) == t0 + (CLAIM + GRACE) * 1000
    # (polling the page, the claim, never takes it back by itself)
    assert services.queue_me(event_id=room.event_id, user_id=1).state == "lapsed"
    assert _counts(room.event_id) == (3, 1, 0, 0)

    # When the fan takes the turn back 50 s into the grace period
    clock_advance(seconds=50)
    position = services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)

    # Then they shop with the same number, and nobody behind moved
    assert (position.number, position.state) == (1, "active")
    assert position.grant is not None
    assert position.grant.claims.user_id == 1
    assert _position(room.event_id, 1).state == "active"
    assert _position(room.event_id, 2).number == 2
    assert _counts(room.event_id) == (3, 1, 1, 0)
    status = queue_status_get(event_id=room.event_id)
    assert status.active == 1
    # and the retried request returns the same session, counting nothing more
    again = services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    assert again.grant is not None
    assert again.grant.claims.session_id == position.grant.claims.session_id
    assert _counts(room.event_id) == (3, 1, 1, 0)
    assert queue_status_get(event_id=room.event_id).active == 1


@pytest.mark.django_db
def test_queue_turn_reclaim_refusals_change_nothing(make_room, t0):
    # Given a fan waiting and a fan whose turn lapsed, in a room of one slot
    room = _room(make_room, t0, max_active=1)
    _join(room.event_id, 1, 2)
    with pytest.raises(exceptions.NotAdmitted):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=2)
    with pytest.raises(exceptions.NotInQueue):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=99)
    clock_advance(seconds=CLAIM)
    assert _position(room.event_id, 1).state == "lapsed"
    # the next fan is admitted in the freed slot at the next minute and shops
    clock_advance(seconds=30)
    assert _position(room.event_id, 2).state == "admitted"
    services.admission_session_start(event_id=room.event_id, user_id=2)

    # When the lapsed fan tries while the only slot is taken, then paused
    with pytest.raises(exceptions.RoomFull) as full:
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    assert full.value.retry_after == 5
    assert full.value.extra == {
        "grace_ends_at": _position(room.event_id, 1).grace_ends_at.isoformat()
    }
    reconfigure(room, state=WaitingRoomConfig.State.PAUSED, max_active=5)
    with pytest.raises(exceptions.AdmissionPaused):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    # with a number that is not their place
    reconfigure(room, state=WaitingRoomConfig.State.OPEN)
    with pytest.raises(exceptions.PlaceChanged):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=7)

    # Then the turn is still theirs to take back, and nothing was counted
    assert _position(room.event_id, 1).state == "lapsed"
    assert _counts(room.event_id) == (2, 1, 0, 0)
    # and closed, it cannot be taken back
    reconfigure(room, state=WaitingRoomConfig.State.CLOSED)
    with pytest.raises(exceptions.QueueClosed):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    assert _counts(room.event_id)[2] == 0


@pytest.mark.django_db
def test_queue_rejoin_after_grace_goes_behind_everyone_waiting(make_room, t0):
    # Given fan 1's turn lapsed and its grace ran out; fans 2-4 joined after
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2, 3, 4)
    clock_advance(seconds=CLAIM + GRACE)
    assert _position(room.event_id, 1).state == "expired"
    with pytest.raises(exceptions.TurnGraceOver):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    # (joining again still gives the same, expired place)
    again = services.queue_join(event_id=room.event_id, user_id=1, ip=IP)
    assert (again.number, again.state, again.joined_now) == (1, "expired", False)
    assert queue_status_get(event_id=room.event_id).serving == 2

    # When the fan rejoins at the back
    place = services.queue_rejoin(event_id=room.event_id, user_id=1, ip=IP, number=1)

    # Then they get a new number behind the two fans still waiting
    assert place == QueuePlace(room.event_id, 1, 5, "waiting", True)
    position = _position(room.event_id, 1)
    assert (position.number, position.state, position.ahead) == (5, "waiting", 2)
    assert _counts(room.event_id) == (5, 1, 0, 1)
    # and the account still has one place: joining returns the new one
    joined = services.queue_join(event_id=room.event_id, user_id=1, ip=IP)
    assert (joined.number, joined.joined_now) == (5, False)
    # and the old number cannot be taken back any more
    with pytest.raises(exceptions.PlaceChanged):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)


@pytest.mark.django_db
def test_queue_rejoin_within_grace_gives_up_the_lapsed_turn(make_room, t0):
    # Given a lapsed turn still in its grace period, one fan waiting
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2)
    clock_advance(seconds=CLAIM)
    assert _position(room.event_id, 1).state == "lapsed"

    # When the fan chooses to rejoin rather than take it back
    place = services.queue_rejoin(event_id=room.event_id, user_id=1, ip=IP, number=1)

    # Then the new place is behind fan 2 and the lapsed turn is gone
    assert (place.number, place.state, place.joined_now) == (3, "waiting", True)
    assert _position(room.event_id, 1).ahead == 1
    with pytest.raises(exceptions.NotAdmitted):
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1)
    assert _counts(room.event_id) == (3, 1, 0, 1)


@pytest.mark.django_db
def test_queue_rejoin_refused_while_the_turn_is_not_over(make_room, t0):
    # Given one fan admitted, one shopping, one waiting
    room = _room(make_room, t0, burst=2)
    _join(room.event_id, 1, 2, 3)
    services.admission_session_start(event_id=room.event_id, user_id=2)
    assert [_position(room.event_id, u).state for u in (1, 2, 3)] == [
        "admitted",
        "active",
        "waiting",
    ]
    # When each asks to rejoin, then they keep their places
    for user in (1, 2, 3):
        with pytest.raises(exceptions.TurnNotOver):
            services.queue_rejoin(event_id=room.event_id, user_id=user, ip=IP)
    with pytest.raises(exceptions.NotInQueue):
        services.queue_rejoin(event_id=room.event_id, user_id=99, ip=IP)
    assert [_position(room.event_id, u).number for u in (1, 2, 3)] == [1, 2, 3]
    assert _counts(room.event_id) == (3, 0, 0, 0)
    # and once the shopper's session is done, they may go round again
    services.queue_session_finish(event_id=room.event_id, user_id=2)
    place = services.queue_rejoin(event_id=room.event_id, user_id=2, ip=IP, number=2)
    assert (place.number, place.joined_now) == (4, True)


@pytest.mark.django_db
def test_lapsed_turn_when_sold_out_is_neither_taken_back_nor_rejoined(make_room, t0):
    # Given an event of one seat, a lapsed turn, and the seat sold to another fan
    event = seated_event(seatmap=ONE_SEAT)
    room = _room(make_room, t0, event=event)
    _join(room.event_id, 1)
    clock_advance(seconds=CLAIM)
    seat = event.seats.get()
    buyer = UserFactory()
    sell(event.pk, hold(event.pk, buyer.pk, "s-b", seat_ids=[seat.pk]), buyer.pk)

    # When the fan tries to take the turn back, or to rejoin
    with pytest.raises(exceptions.EventSoldOut) as sold_out:
        services.queue_turn_reclaim(event_id=room.event_id, user_id=1, number=1)
    with pytest.raises(exceptions.EventSoldOut):
        services.queue_rejoin(event_id=room.event_id, user_id=1, ip=IP, number=1)

    # Then both are refused with nothing changed: the lapsed place stays
    position = _position(room.event_id, 1)
    assert (position.number, position.state) == (1, "lapsed")
    assert sold_out.value.extra == {"grace_ends_at": position.grace_ends_at.isoformat()}
    assert _counts(room.event_id) == (1, 1, 0, 0)
    assert queue_status_get(event_id=room.event_id).active == 0


@pytest.mark.django_db
def test_queue_rejoin_counts_against_the_address_join_limit(make_room, t0, settings):
    # Given one join per address per window, used by the fan's own join
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 1
    room = _room(make_room, t0)
    services.queue_join(event_id=room.event_id, user_id=1, ip="198.51.100.1")
    queue_status_get(event_id=room.event_id)
    clock_advance(seconds=CLAIM)

    # When the fan rejoins from the same address, then it is refused
    with pytest.raises(exceptions.JoinRateLimited):
        services.queue_rejoin(
            event_id=room.event_id, user_id=1, ip="198.51.100.1", number=1
        )
    assert (_position(room.event_id, 1).number, _counts(room.event_id)) == (
        1,
        (1, 1, 0, 0),
    )
    # and from another address it is done, once
    place = services.queue_rejoin(
        event_id=room.event_id, user_id=1, ip="198.51.100.2", number=1
    )
    assert place.number == 2


@pytest.mark.django_db(transaction=True)
def test_double_clicked_rejoin_issues_one_new_place(make_room, t0):
    # Given a lapsed turn and three fans waiting
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2, 3, 4)
    clock_advance(seconds=CLAIM)

    # When 12 rejoins of place 1 arrive at once (clicks, retries)
    results = run_parallel(
        12,
        lambda _: services.queue_rejoin(
            event_id=room.event_id, user_id=1, ip=IP, number=1
        ),
    )

    # Then exactly one issued a place, and every answer names that place
    assert all(isinstance(result, QueuePlace) for result in results), results
    assert sum(result.joined_now for result in results) == 1
    assert {result.number for result in results} == {5}
    assert _counts(room.event_id) == (5, 1, 0, 1)


@pytest.mark.django_db(transaction=True)
def test_double_clicked_reclaim_starts_one_session(make_room, t0):
    # Given a lapsed turn in its grace period
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2)
    clock_advance(seconds=CLAIM + 1)

    # When 12 takes back arrive at once
    results = run_parallel(
        12,
        lambda _: services.queue_turn_reclaim(
            event_id=room.event_id, user_id=1, number=1
        ),
    )

    # Then one session runs, and every answer carries it
    assert all(isinstance(result, QueuePosition) for result in results), results
    assert len({result.grant.claims.session_id for result in results}) == 1
    assert _counts(room.event_id) == (2, 1, 1, 0)
    assert queue_status_get(event_id=room.event_id).active == 1
    assert redis_client().zcard(waitingroom_key(room.event_id, "active")) == 1


@pytest.mark.django_db(transaction=True)
def test_reclaim_and_rejoin_at_once_do_exactly_one(make_room, t0):
    # Given a lapsed turn in its grace period and one fan waiting
    room = _room(make_room, t0)
    _join(room.event_id, 1, 2)
    clock_advance(seconds=CLAIM + 1)

    # When 8 take backs and 8 rejoins of place 1 race
    def attempt(n: int) -> Any:
        if n % 2:
            return services.queue_turn_reclaim(
                event_id=room.event_id, user_id=1, number=1
            )
        return services.queue_rejoin(event_id=room.event_id, user_id=1, ip=IP, number=1)

    results = run_parallel(16, attempt)

    # Then one of the two happened, never both
    reclaims, rejoins = results[1::2], results[0::2]
    issued, lapsed, taken_back, rejoined = _counts(room.event_id)
    assert (lapsed, taken_back + rejoined) == (1, 1)
    active = redis_client().zcard(waitingroom_key(room.event_id, "active"))
    position = _position(room.event_id, 1)
    if taken_back:
        # every take back got the one session; every rejoin kept the turn
        assert all(isinstance(r, QueuePosition) for r in reclaims), reclaims
        assert len({r.grant.claims.session_id for r in reclaims}) == 1
        assert all(isinstance(r, exceptions.TurnNotOver) for r in rejoins), rejoins
        assert (issued, active, position.number, position.state) == (
            2,
            1,
            1,
            "active",
        )
    else:
        # every rejoin got the one new place; every take back saw it gone
        assert {r.number for r in rejoins} == {3}
        assert sum(r.joined_now for r in rejoins) == 1
        assert all(isinstance(r, exceptions.PlaceChanged) for r in reclaims), reclaims
        assert (issued, active, position.number, position.state) == (
            3,
            0,
            3,
            "waiting",
        )
