from __future__ import annotations

import math
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from onsale.events.exceptions import EventNotFound
from onsale.platform.redis import redis_client
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import admission, exceptions, services
from onsale.waitingroom.clock import clock_advance, clock_inject
from onsale.waitingroom.keys import waitingroom_key
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import queue_status_get
from onsale.waitingroom.tasks import waitingroom_tick


def _fill(event_id: int, fans: int, first_user: int = 1) -> None:
    for user in range(first_user, first_user + fans):
        services.queue_join(event_id=event_id, user_id=user, ip="192.0.2.1")


def _serving(event_id: int) -> int:
    return admission.admission_evaluate(event_id=event_id).serving


@pytest.mark.django_db
def test_bucket_admits_burst_plus_rate_over_a_simulated_minute(make_room, t0):
    # given 2,000 fans waiting, 100 per minute with a burst of 10, no cap
    room = make_room(now_ms=t0, rate_per_minute=100, burst=10, max_active=100_000)
    room_paused = reconfigure(room, state=WaitingRoomConfig.State.PAUSED)
    _fill(room.event_id, 2000)
    reconfigure(room_paused, state=WaitingRoomConfig.State.SCHEDULED)
    # when the room is evaluated every second for a minute
    start = _serving(room.event_id)
    assert start == 10  # the bucket starts full
    for second in range(1, 61):
        clock_advance(seconds=1)
        # then after t seconds exactly burst + rate * t / 60 are admitted
        assert _serving(room.event_id) == 10 + math.floor(100 * second / 60)
    assert _serving(room.event_id) == 110


@pytest.mark.django_db
def test_bucket_is_exact_at_irregular_evaluations(make_room, t0):
    # given a long queue and evaluations at random moments, 1 ms to 3 s apart
    room = make_room(now_ms=t0, rate_per_minute=777, burst=25, max_active=100_000)
    reconfigure(room, state=WaitingRoomConfig.State.PAUSED)
    _fill(room.event_id, 1500)
    reconfigure(room, state=WaitingRoomConfig.State.SCHEDULED)
    rng = random.Random(7)
    elapsed_ms = 0
    _serving(room.event_id)
    while elapsed_ms < 60_000:
        step = rng.randint(1, 3000)
        clock_advance(seconds=step / 1000)
        elapsed_ms += step
        admitted = _serving(room.event_id)
        # never over, never more than one under the theoretical count
        theoretical = 25 + 777 * elapsed_ms / 60_000
        assert admitted <= theoretical
        assert admitted > theoretical - 1


@pytest.mark.django_db
def test_bucket_never_admits_past_the_queue_and_refills_only_to_burst(make_room, t0):
    room = make_room(now_ms=t0, rate_per_minute=600, burst=5, max_active=1000)
    _fill(room.event_id, 3)
    assert _serving(room.event_id) == 3  # only 3 to admit
    clock_advance(seconds=600)  # a long idle time: tokens stop at the burst
    _fill(room.event_id, 20, first_user=100)
    assert _serving(room.event_id) == 3 + 5


@pytest.mark.django_db
def test_paused_room_admits_nobody(make_room, t0):
    room = make_room(now_ms=t0, rate_per_minute=6000, burst=10, max_active=1000)
    _fill(room.event_id, 50)
    assert _serving(room.event_id) == 10
    # when the organizer pauses
    reconfigure(room, state=WaitingRoomConfig.State.PAUSED)
    for _ in range(30):
        clock_advance(seconds=2)
        assert _serving(room.event_id) == 10
    status = queue_status_get(event_id=room.event_id)
    assert (status.state, status.serving, status.waiting) == ("paused", 10, 40)
    # and resuming admits again, at most a burst at once
    reconfigure(room, state=WaitingRoomConfig.State.OPEN)
    assert _serving(room.event_id) == 20


@pytest.mark.django_db
def test_rate_change_applies_from_the_next_evaluation(make_room, t0):
    room = make_room(now_ms=t0, rate_per_minute=60, burst=1, max_active=1000)
    _fill(room.event_id, 500)
    assert _serving(room.event_id) == 1
    clock_advance(seconds=10)
    assert _serving(room.event_id) == 11
    reconfigure(room, rate_per_minute=600)
    clock_advance(seconds=10)
    assert _serving(room.event_id) == 11 + 100


@pytest.mark.django_db
def test_unclaimed_slot_is_given_on_after_claim_seconds(make_room, t0):
    # given one slot, a claim window of 30 s, and two fans
    room = make_room(
        now_ms=t0, rate_per_minute=600, burst=5, max_active=1, claim_seconds=30
    )
    _fill(room.event_id, 2)
    first = services.queue_position_get(event_id=room.event_id, user_id=1)
    second = services.queue_position_get(event_id=room.event_id, user_id=2)
    assert (first.state, second.state, second.ahead) == ("admitted", "waiting", 0)
    # when the first does not claim within the window
    clock_advance(seconds=29)
    assert services.queue_position_get(event_id=room.event_id, user_id=2).state == (
        "waiting"
    )
    clock_advance(seconds=1)
    # then the slot goes to the next fan
    assert services.queue_position_get(event_id=room.event_id, user_id=2).state == (
        "admitted"
    )
    # (the first fan's turn lapsed: it can still be taken back, never by a claim)
    assert services.queue_position_get(event_id=room.event_id, user_id=1).state == (
        "lapsed"
    )
    with pytest.raises(exceptions.AdmissionExpired):
        services.admission_session_start(event_id=room.event_id, user_id=1)
    grant = services.admission_session_start(event_id=room.event_id, user_id=2)
    assert grant.claims.user_id == 2
    status = queue_status_get(event_id=room.event_id)
    assert (status.active, status.admitted_unclaimed) == (1, 0)


@pytest.mark.django_db
def test_session_end_and_expiry_free_slots(make_room, t0):
    room = make_room(
        now_ms=t0, rate_per_minute=6000, burst=10, max_active=2, session_seconds=300
    )
    _fill(room.event_id, 5)
    assert _serving(room.event_id) == 2
    one = services.queue_me(event_id=room.event_id, user_id=1)
    two = services.queue_me(event_id=room.event_id, user_id=2)
    assert (one.state, two.state) == ("active", "active")
    assert one.grant is not None and two.grant is not None
    # a session that ends early frees its slot at the next evaluation
    services.admission_session_end(
        event_id=room.event_id, session_id=one.grant.claims.session_id
    )
    services.admission_session_end(
        event_id=room.event_id, session_id=one.grant.claims.session_id
    )  # idempotent
    assert _serving(room.event_id) == 3
    assert services.queue_me(event_id=room.event_id, user_id=1).state == "done"
    # a session that runs out frees its slot too
    services.queue_me(event_id=room.event_id, user_id=3)
    clock_advance(seconds=300)
    assert _serving(room.event_id) == 5
    assert services.queue_me(event_id=room.event_id, user_id=2).state == "expired"
    # one session per place: a finished fan cannot start another
    with pytest.raises(exceptions.AdmissionExpired):
        services.admission_session_start(event_id=room.event_id, user_id=1)


@pytest.mark.django_db
def test_max_active_never_exceeded_under_64_concurrent_claimers(make_room):
    # given 64 fans, 8 slots, a fast bucket (real clock)
    room = make_room(rate_per_minute=600_000, burst=8, max_active=8)
    _fill(room.event_id, 64)
    client = redis_client()
    unclaimed = waitingroom_key(room.event_id, "unclaimed")
    active = waitingroom_key(room.event_id, "active")
    stop = threading.Event()
    peak = [0]

    def watch() -> None:
        # One script reads both counts at one moment (a MULTI would too, but
        # redis-py has none on Redis Cluster).
        both = "return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])"
        while not stop.is_set():
            in_use = int(client.eval(both, 2, unclaimed, active))
            peak[0] = max(peak[0], in_use)

    barrier = threading.Barrier(64)

    def shop(user: int) -> int:
        # each fan polls "me" until admitted, shops, and leaves
        barrier.wait()
        for _ in range(10_000):
            position = services.queue_me(event_id=room.event_id, user_id=user)
            if position.state == "active":
                assert position.grant is not None
                services.admission_session_end(
                    event_id=room.event_id,
                    session_id=position.grant.claims.session_id,
                )
                return user
        raise AssertionError(f"fan {user} was never admitted")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            served = list(pool.map(shop, range(1, 65)))
    finally:
        stop.set()
        watcher.join()
    # then every fan got a turn and at no moment were more than 8 in
    assert sorted(served) == list(range(1, 65))
    assert 1 <= peak[0] <= 8
    assert queue_status_get(event_id=room.event_id).serving == 64


@pytest.mark.django_db
def test_direct_admissions_respect_max_active_under_64_threads(make_room):
    room = make_room(max_active=10)
    barrier = threading.Barrier(64)

    def start(user: int) -> str:
        barrier.wait()
        try:
            services.admission_session_start(event_id=room.event_id, user_id=user)
        except exceptions.RoomFull:
            return "full"
        return "started"

    with ThreadPoolExecutor(max_workers=64) as pool:
        outcomes = list(pool.map(start, range(1, 65)))
    assert outcomes.count("started") == 10
    assert outcomes.count("full") == 54
    assert queue_status_get(event_id=room.event_id).active == 10


@pytest.mark.django_db
def test_measured_rate_drives_the_wait_estimate(make_room, t0):
    # given a room admitting 120 per minute for over a minute
    room = make_room(now_ms=t0, rate_per_minute=120, burst=1, max_active=100_000)
    reconfigure(room, state=WaitingRoomConfig.State.PAUSED)
    _fill(room.event_id, 1000)
    reconfigure(room, state=WaitingRoomConfig.State.OPEN)
    assert queue_status_get(event_id=room.event_id).measured_rate_per_minute is None
    for _ in range(70):
        clock_advance(seconds=1)
        _serving(room.event_id)
    status = queue_status_get(event_id=room.event_id)
    assert status.measured_rate_per_minute == pytest.approx(120, abs=3)
    # when the organizer sets a different rate, the estimate still uses what
    # was measured
    reconfigure(room, rate_per_minute=6)
    position = services.queue_position_get(event_id=room.event_id, user_id=1000)
    measured = queue_status_get(event_id=room.event_id).measured_rate_per_minute
    assert measured is not None and measured > 60
    assert position.ahead == 1000 - position.serving - 1
    assert position.estimated_wait_seconds == math.ceil(
        (position.ahead + 1) * 60 / measured
    )


@pytest.mark.django_db
def test_beat_tick_moves_an_idle_room(make_room, t0):
    room = make_room(now_ms=t0, rate_per_minute=60, burst=1, max_active=100)
    _fill(room.event_id, 10)
    # (.result, not .get(): an in-process worker elsewhere in the run makes
    # Celery refuse .get() process-wide.)
    assert waitingroom_tick.delay().result == 1
    clock_inject(t0 + 5000)
    waitingroom_tick.delay()
    served = redis_client().hget(waitingroom_key(room.event_id, "q"), "serving")
    assert served == "6"


@pytest.mark.django_db
def test_closed_idle_rooms_leave_the_beat(make_room):
    from onsale.waitingroom import scripts

    room = make_room(max_active=5)
    services.admission_session_start(event_id=room.event_id, user_id=1)
    reconfigure(room, state=WaitingRoomConfig.State.CLOSED)
    assert services.rooms_tick() == 1
    assert room.event_id in scripts.rooms_list()  # a session still runs
    services.queue_session_finish(event_id=room.event_id, user_id=1)
    services.rooms_tick()
    assert room.event_id not in scripts.rooms_list()
    reconfigure(room, state=WaitingRoomConfig.State.OPEN)
    assert room.event_id in scripts.rooms_list()


@pytest.mark.django_db
def test_waitingroom_config_ensure_creates_the_defaults_once(settings):
    from onsale.testutils.factories import EventFactory

    event = EventFactory()

    config = admission.waitingroom_config_ensure(event_id=event.pk)
    again = admission.waitingroom_config_ensure(event_id=event.pk)

    assert again.pk == config.pk
    assert config.onsale_at == event.onsale_at
    assert config.rate_per_minute == settings.WAITINGROOM_DEFAULT_RATE_PER_MINUTE
    assert WaitingRoomConfig.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_waitingroom_config_ensure_refuses_an_unknown_event():
    with pytest.raises(EventNotFound):
        admission.waitingroom_config_ensure(event_id=999_999)


def test_ms_to_datetime_reads_epoch_milliseconds():
    assert admission.ms_to_datetime(1_500) == datetime(
        1970, 1, 1, 0, 0, 1, 500_000, UTC
    )


@pytest.mark.django_db
def test_waitingroom_live_config_push_keeps_a_newer_version(make_room):
    room = make_room()
    stale = WaitingRoomConfig.objects.select_related("event").get(pk=room.pk)
    stale.version -= 1

    assert not admission.waitingroom_live_config_push(config=stale)
    assert admission.waitingroom_live_config_push(config=stale, force=True)


@pytest.mark.django_db
def test_prequeue_draw_draws_once(make_room, t0):
    room = make_room(now_ms=t0, onsale_in=-1)

    first = admission.prequeue_draw(event_id=room.event_id)
    second = admission.prequeue_draw(event_id=room.event_id)

    assert first.seed
    assert second.seed == first.seed
