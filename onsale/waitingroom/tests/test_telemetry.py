from __future__ import annotations

from typing import Any

import pytest

from onsale.platform.observability import metrics, telemetry
from onsale.waitingroom import admission, services
from onsale.waitingroom.clock import clock_advance
from onsale.waitingroom.selectors import queue_states_list


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        telemetry, "record_event", lambda name, **attrs: events.append((name, attrs))
    )
    return events


def _join(event_id: int, user_id: int) -> Any:
    return services.queue_join(event_id=event_id, user_id=user_id, ip="192.0.2.1")


@pytest.mark.django_db
def test_join_and_admission_events(make_room, t0, recorded):
    room = make_room(now_ms=t0, rate_per_minute=60, burst=1, max_active=10)
    _join(room.event_id, 1)
    _join(room.event_id, 1)  # a repeat is not a new join
    assert [name for name, _ in recorded] == ["QueueJoin"]
    attrs = recorded[0][1]
    assert (attrs["event_id"], attrs["queue_number"], attrs["pre_queue"]) == (
        room.event_id,
        1,
        False,
    )
    assert attrs["latency_ms"] >= 0
    clock_advance(seconds=42)
    services.queue_me(event_id=room.event_id, user_id=1)
    services.queue_me(event_id=room.event_id, user_id=1)  # same session again
    assert [name for name, _ in recorded] == ["QueueJoin", "Admission"]
    admission = recorded[1][1]
    assert (admission["queue_number"], admission["waited_seconds"]) == (1, 42.0)


@pytest.mark.django_db
def test_prequeue_fans_wait_from_the_draw(make_room, t0, recorded):
    room = make_room(now_ms=t0, onsale_in=60, rate_per_minute=60, burst=5)
    _join(room.event_id, 7)
    assert recorded[0][1]["pre_queue"] is True
    assert recorded[0][1]["queue_number"] is None
    clock_advance(seconds=60)
    admission.admission_evaluate(event_id=room.event_id)  # the draw, admission
    clock_advance(seconds=10)
    services.queue_me(event_id=room.event_id, user_id=7)
    assert recorded[-1][0] == "Admission"
    assert recorded[-1][1]["waited_seconds"] == 10.0


@pytest.mark.django_db
def test_direct_admissions_are_not_queue_admissions(make_room, recorded):
    room = make_room()
    services.admission_session_start(event_id=room.event_id, user_id=99)
    assert recorded == []


@pytest.mark.django_db
def test_rooms_feed_the_platform_queue_gauges(make_room):
    room = make_room(rate_per_minute=120, burst=2, max_active=40)
    for user in range(1, 6):
        _join(room.event_id, user)
    admission.admission_evaluate(event_id=room.event_id)  # admits 1 and 2
    services.admission_session_start(event_id=room.event_id, user_id=1)
    states = {state.event_id: state for state in queue_states_list()}
    state = states[room.event_id]
    assert (state.state, state.numbers_issued, state.serving_number) == ("open", 5, 2)
    assert (state.active_sessions, state.max_active_sessions) == (2, 40)
    assert state.admission_rate_per_minute == 120
    # and through the platform's own collection (what /metrics shows)
    collected, failed = metrics.queue_states_collect()
    assert failed == []
    assert room.event_id in {s.event_id for s in collected}
