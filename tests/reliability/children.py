"""Code the drills run in a child process (see tests.faults.child)."""

from __future__ import annotations

import json
import sys
from typing import Any


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def stale_holder(event_id: str, user_id: str, seat_id: str) -> None:
    """Hold one seat, report it, wait for "go" on stdin (the drill SIGSTOPs
    us meanwhile), then try to buy with the hold id we were given."""
    from django.db import transaction

    from onsale.platform.exceptions import DomainError
    from onsale.seatselection import sales as seat_sales
    from onsale.seatselection import services

    hold = services.hold_create(
        event_id=int(event_id),
        user_id=int(user_id),
        session_id=f"child-{user_id}",
        session_expires_at=4_000_000_000,
        seat_ids=[int(seat_id)],
        max_seats_per_fan=10,
    )
    _say(step="held", hold_id=hold.hold_id)
    sys.stdin.readline()
    try:
        with transaction.atomic():
            seat_sales.sale_record(
                hold=services.hold_confirm(
                    event_id=int(event_id), hold_id=hold.hold_id, user_id=int(user_id)
                )
            )
    except DomainError as exc:
        _say(step="refused", code=exc.code)
        return
    _say(step="sold", hold_id=hold.hold_id)


def skewed_admission(event_id: str, *user_ids: str) -> None:
    """Join the fans and evaluate the room from this (clock-skewed) process;
    start the first fan's shopping session if they were admitted. Reports
    what it saw."""
    import time

    from onsale.waitingroom import admission, exceptions, services

    numbers = [
        services.queue_join(
            event_id=int(event_id), user_id=int(user_id), ip=f"10.9.0.{index}"
        ).number
        for index, user_id in enumerate(user_ids)
    ]
    room = admission.admission_evaluate(event_id=int(event_id))
    try:
        grant = services.admission_session_start(
            event_id=int(event_id), user_id=int(user_ids[0])
        )
    except exceptions.NotAdmitted:
        _say(
            local_now=time.time(),
            redis_now=room.now_ms / 1000,
            serving=room.serving,
            numbers=numbers,
            token=None,
        )
        return
    _say(
        numbers=numbers,
        local_now=time.time(),
        redis_now=room.now_ms / 1000,
        serving=room.serving,
        admitted=room.admitted_total,
        token=grant.token,
        issued_at=grant.claims.issued_at,
    )
