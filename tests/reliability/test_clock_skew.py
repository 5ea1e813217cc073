"""Drill: web processes whose clocks are minutes off.

Admission runs in one Lua script on the Redis clock, so a process five minutes
ahead or behind (a real child process under libfaketime) admits exactly as
many fans as a correct one. Access tokens carry times from the Redis clock
and are checked with WAITINGROOM_JWT_LEEWAY_SECONDS of leeway: a verifier off
by less is fine, one off by more refuses them.
"""

from __future__ import annotations

import json
import shutil
import time
import types
from typing import Any

import pytest

from onsale.events.models import Event
from onsale.testutils.factories import UserFactory
from onsale.waitingroom import clock
from onsale.waitingroom.admission import admission_evaluate
from tests.faults.child import child_start
from tests.reliability.conftest import client_of, room_open, seat_ids

BURST = 3
SKEW_SECONDS = 300

pytestmark = pytest.mark.skipif(
    shutil.which("faketime") is None, reason="libfaketime (apt: faketime) missing"
)


def _run_skewed(offset: str, event: Event, users: list[Any]) -> dict[str, Any]:
    process = child_start(
        "tests.reliability.children:skewed_admission",
        str(event.pk),
        *[str(user.pk) for user in users],
        wrapper=("faketime", "-f", offset),
    )
    output, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors[-3000:]
    return dict(json.loads(output.splitlines()[-1]))


@pytest.mark.django_db(transaction=True)
def test_admission_is_unchanged_by_a_skewed_web_process(
    seated_event: Event,
) -> None:
    # given a room that admits a burst of 3 and then one fan a minute
    event = seated_event
    room_open(event, burst=BURST, rate_per_minute=1, max_active=100)
    fans = UserFactory.create_batch(9)
    baseline = admission_evaluate(event_id=event.pk)  # the real clock fills it

    # when processes five minutes ahead and behind join fans and evaluate
    ahead = _run_skewed(f"+{SKEW_SECONDS}s", event, fans[:5])
    behind = _run_skewed(f"-{SKEW_SECONDS}s", event, fans[5:])
    after = admission_evaluate(event_id=event.pk)

    # then their clocks were off, but Redis's was used: a clock 5 min ahead
    # would have refilled 5 tokens of a 1/min bucket; none were
    assert ahead["local_now"] - ahead["redis_now"] == pytest.approx(SKEW_SECONDS, 5)
    assert behind["redis_now"] - behind["local_now"] == pytest.approx(SKEW_SECONDS, 5)
    assert baseline.serving == 0
    assert ahead["serving"] == BURST
    assert behind["serving"] == BURST
    assert after.serving == BURST
    assert after.issued == len(fans)
    assert ahead["numbers"] == [1, 2, 3, 4, 5]
    assert behind["numbers"] == [6, 7, 8, 9]
    assert behind["token"] is None  # number 6 is not admitted yet
    # the token carries the Redis clock, not the issuing process's
    assert abs(ahead["issued_at"] - ahead["redis_now"]) <= 1

    # and a token issued by the skewed process works on a correct one
    response = client_of(fans[0], token=ahead["token"]).post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": [seat_ids(event)[0]]},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db(transaction=True)
def test_token_times_are_checked_with_the_leeway_and_not_beyond(
    monkeypatch: pytest.MonkeyPatch, settings: Any, seated_event: Event
) -> None:
    from onsale.waitingroom.services import admission_session_start

    event = seated_event
    leeway = settings.WAITINGROOM_JWT_LEEWAY_SECONDS
    room_open(event, session_seconds=600)
    fan = UserFactory()
    grant = admission_session_start(event_id=event.pk, user_id=fan.pk)
    client = client_of(fan, token=grant.token)
    seat = seat_ids(event)[0]

    def hold_with_verifier_offset(offset: float) -> Any:
        real = time.time
        # Only the verifier's clock is skewed (the hold itself runs in Redis).
        monkeypatch.setattr(
            clock, "time", types.SimpleNamespace(time=lambda: real() + offset)
        )
        try:
            return client.post(
                f"/api/v1/events/{event.pk}/holds", {"seats": [seat]}, format="json"
            )
        finally:
            monkeypatch.setattr(clock, "time", time)

    # within the leeway either way: accepted
    assert hold_with_verifier_offset(-(leeway - 5)).status_code == 201
    assert hold_with_verifier_offset(+(leeway - 5)).status_code == 201
    # verifier far behind: the token looks issued in the future
    behind = hold_with_verifier_offset(-(leeway + 60))
    assert behind.status_code == 401
    assert behind.json()["extra"] == {"reason": "issued_in_future"}
    # verifier past the token's end plus the leeway: expired
    late = hold_with_verifier_offset(600 + leeway + 5)
    assert late.status_code == 401
    assert late.json()["code"] == "access_session_ended"
    assert late.json()["extra"] == {"reason": "expired"}
