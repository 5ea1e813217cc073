"""Drill: a paused holder cannot win.

A real child process holds a seat and is frozen with SIGSTOP past the hold's
TTL; meanwhile another fan holds and buys the seat. When the child resumes
and tries to buy with its old hold id, the fencing check refuses it.
"""

from __future__ import annotations

import json
import time

import pytest

from onsale.events.models import Event
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import HoldExpired
from onsale.seatselection.models import SeatSale
from onsale.testutils.factories import UserFactory
from tests.faults.child import child_start
from tests.faults.process import pause, resume
from tests.reliability.conftest import seat_ids
from tests.reliability.test_no_double_sale import _hold, _sell

HOLD_SECONDS = 1


@pytest.mark.django_db(transaction=True)
def test_a_sigstopped_holder_is_refused_after_its_hold_expired(
    settings: object, seated_event: Event
) -> None:
    event = seated_event
    seat = seat_ids(event)[0]
    paused_fan, fast_fan = UserFactory(), UserFactory()
    child = child_start(
        "tests.reliability.children:stale_holder",
        str(event.pk),
        str(paused_fan.pk),
        str(seat),
        env={"SEAT_HOLD_SECONDS": str(HOLD_SECONDS)},
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        held = json.loads(child.stdout.readline())
        assert held["step"] == "held"
        pause(child)  # the fault: the holder freezes (GC pause, stuck VM)
        time.sleep(HOLD_SECONDS + 0.5)
        # Another fan holds the freed seat and buys it while the child sleeps.
        settings.SEAT_HOLD_SECONDS = 60  # type: ignore[attr-defined]
        winner = _hold(event, fast_fan.pk, [seat])
        assert winner.hold_id > held["hold_id"]
        _sell(event, fast_fan.pk, winner.hold_id)
        resume(child)
        child.stdin.write("go\n")
        child.stdin.flush()
        outcome = json.loads(child.stdout.readline())
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert outcome == {"step": "refused", "code": "hold_expired"}
    assert list(
        SeatSale.objects.filter(event=event).values_list("seat_id", "user_id")
    ) == [(seat, fast_fan.pk)]


@pytest.mark.django_db(transaction=True)
def test_an_old_hold_id_cannot_be_confirmed_once_the_seat_was_held_again(
    settings: object, seated_event: Event
) -> None:
    """The same race, in-process: the stale holder even calls before the new
    holder buys, and is still refused, because its hold id is not current."""
    settings.SEAT_HOLD_SECONDS = HOLD_SECONDS  # type: ignore[attr-defined]
    event = seated_event
    seat = seat_ids(event)[0]
    stale_fan, fresh_fan = UserFactory(), UserFactory()
    stale = _hold(event, stale_fan.pk, [seat])
    time.sleep(HOLD_SECONDS + 0.3)
    settings.SEAT_HOLD_SECONDS = 60  # type: ignore[attr-defined]
    fresh = _hold(event, fresh_fan.pk, [seat])
    with pytest.raises(HoldExpired):
        seat_services.hold_confirm(
            event_id=event.pk, hold_id=stale.hold_id, user_id=stale_fan.pk
        )
    with pytest.raises(HoldExpired):
        _sell(event, stale_fan.pk, stale.hold_id)
    assert SeatSale.objects.filter(event=event).count() == 0
    _sell(event, fresh_fan.pk, fresh.hold_id)
    assert list(
        SeatSale.objects.filter(event=event).values_list("seat_id", "user_id")
    ) == [(seat, fresh_fan.pk)]
