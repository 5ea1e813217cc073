"""Reads of the waiting room: configuration, the public status document, JWKS."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from onsale.events import exceptions as event_exceptions
from onsale.platform.observability.metrics import QueueState
from onsale.waitingroom import scripts
from onsale.waitingroom.admission import (
    admission_evaluate,
    ms_to_datetime,
    waitingroom_config_ensure,
)
from onsale.waitingroom.clock import local_now_seconds
from onsale.waitingroom.draw import DRAW_METHOD
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.signing import keyring


def waitingroom_config_get(*, event_id: int) -> WaitingRoomConfig:
    """The event's waiting room configuration (created with defaults on first use):
    fields include max_seats_per_fan: int, session_seconds: int, state, rate_per_minute,
    burst, max_active, claim_seconds, prequeue_opens_at, onsale_at.

    Reads MySQL (the durable copy); EventNotFound for an unknown event. The
    first call for an event writes its default row (see
    admission.waitingroom_config_ensure), which is why a read may write once.
    """
    return waitingroom_config_ensure(event_id=event_id)


def max_seats_per_fan_get(*, event_id: int) -> int:
    """The event's per-fan seat limit, read from the live copy in Redis (the
    one the admission scripts use; every change is pushed there), so a hold
    costs no MySQL read. When Redis lost the live copy, MySQL answers (the next
    join or status read puts the copy back)."""
    live = scripts.live_config_field(event_id=event_id, name="max_seats")
    if live is None:
        return int(waitingroom_config_get(event_id=event_id).max_seats_per_fan)
    return int(live)


@dataclass(frozen=True)
class PrequeueDraw:
    size: int
    seed: str
    method: str
    drawn_at: datetime


@dataclass(frozen=True)
class QueueStatus:
    """The public status document: the same for every fan at a given second."""

    event_id: int
    state: str
    serving: int
    issued: int
    waiting: int
    prequeue_size: int
    admitted_unclaimed: int
    active: int
    max_active: int
    rate_per_minute: int
    burst: int
    measured_rate_per_minute: float | None
    prequeue_opens_at: datetime
    onsale_at: datetime
    draw: PrequeueDraw | None
    server_time: datetime
    # Admitted turns whose claim window ended unclaimed; of those, the ones
    # taken back within the grace period; places exchanged for one at the back.
    turns_lapsed: int = 0
    turns_reclaimed: int = 0
    turns_rejoined: int = 0


_memo: dict[int, tuple[float, QueueStatus]] = {}
_memo_lock = threading.Lock()


def queue_status_get(*, event_id: int) -> QueueStatus:
    """The event's public status. Evaluating it also advances admission (one
    script call; that is how a watched room moves between beat ticks).

    Each process keeps the document for WAITINGROOM_STATUS_MEMO_MS at most: it
    is public and cacheable for a second anyway, and the memo is never a
    source of truth (any pod may answer, each from Redis). EventNotFound for
    an unknown or unpublished event.
    """
    memo_seconds = settings.WAITINGROOM_STATUS_MEMO_MS / 1000
    if memo_seconds > 0:
        cached = _memo.get(event_id)
        if cached is not None and time.monotonic() - cached[0] < memo_seconds:
            return cached[1]
    evaluation = admission_evaluate(event_id=event_id)
    if evaluation.event_status == "draft":
        raise event_exceptions.EventNotFound()
    draw = None
    if evaluation.drawn and evaluation.seed:
        draw = PrequeueDraw(
            size=evaluation.drawn_size,
            seed=evaluation.seed,
            method=DRAW_METHOD,
            drawn_at=ms_to_datetime(evaluation.drawn_at_ms),
        )
    waiting = evaluation.issued - evaluation.serving + evaluation.prequeue_size
    status = QueueStatus(
        event_id=event_id,
        state=evaluation.state,
        serving=evaluation.serving,
        issued=evaluation.issued,
        waiting=waiting,
        prequeue_size=evaluation.prequeue_size,
        admitted_unclaimed=evaluation.admitted_unclaimed,
        active=evaluation.active,
        max_active=evaluation.max_active,
        rate_per_minute=evaluation.rate_per_minute,
        burst=evaluation.burst,
        measured_rate_per_minute=evaluation.measured_rate_per_minute,
        prequeue_opens_at=ms_to_datetime(evaluation.prequeue_opens_ms),
        onsale_at=ms_to_datetime(evaluation.onsale_ms),
        draw=draw,
        server_time=ms_to_datetime(evaluation.now_ms),
        turns_lapsed=evaluation.turns_lapsed,
        turns_reclaimed=evaluation.turns_reclaimed,
        turns_rejoined=evaluation.turns_rejoined,
    )
    if memo_seconds > 0:
        with _memo_lock:
            _memo[event_id] = (time.monotonic(), status)
    return status


def jwks_get() -> dict[str, list[dict[str, object]]]:
    """The public keys access tokens may be verified with now (current and
    those rotated out less than the grace period ago), as a JWK Set."""
    now = local_now_seconds()
    return {"keys": [key.jwk() for key in keyring().published(now=now)]}


def queue_states_list() -> list[QueueState]:
    """Every live room's state for the ops page, the `onsale_queue_*` gauges
    and New Relic's QueueSnapshot (registered with the platform's metrics).
    Evaluates each room once (so a scrape also moves idle rooms, harmlessly:
    evaluation is atomic); rooms whose live copy is gone are skipped.
    `active_sessions` counts admitted-unclaimed slots too: both hold a place
    under `max_active`."""
    states = []
    for event_id in scripts.rooms_list():
        evaluation = scripts.evaluate_run(event_id=event_id)
        if evaluation is None:
            continue
        states.append(
            QueueState(
                event_id=event_id,
                state=evaluation.state,
                numbers_issued=evaluation.issued,
                serving_number=evaluation.serving,
                active_sessions=evaluation.active + evaluation.admitted_unclaimed,
                max_active_sessions=evaluation.max_active,
                admission_rate_per_minute=float(evaluation.rate_per_minute),
            )
        )
    return states
