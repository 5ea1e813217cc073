"""The waiting room's healing core: the reads that repair the state they read.

An evaluation may find the live config missing from Redis (first use, or
Redis lost it) and re-seed it from MySQL, or find the pre-queue due and draw
it; the configuration row itself is created on first use. Services and
selectors both call these, so they live below both: this module imports
neither.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings

from onsale.events import exceptions as event_exceptions
from onsale.events.models import Event
from onsale.waitingroom import scripts
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.scripts import RoomEvaluation, ScriptOutcome

logger = logging.getLogger(__name__)

# How often a call may find the live copy missing or the draw due before it
# gives up; each happens at most once in practice.
_RETRIES = 3


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


# --- configuration ------------------------------------------------------------


def waitingroom_config_ensure(*, event_id: int) -> WaitingRoomConfig:
    """The event's configuration, created on first use from the event's
    on-sale time and the WAITINGROOM_DEFAULT_* settings (the pre-queue opens
    WAITINGROOM_DEFAULT_PREQUEUE_MINUTES before the on-sale). Raises
    EventNotFound for an unknown event. Safe under concurrent first use: the
    row is unique per event and get_or_create re-reads after losing the race.
    """
    config = (
        WaitingRoomConfig.objects.select_related("event")
        .filter(event_id=event_id)
        .first()
    )
    if config is not None:
        return config
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise event_exceptions.EventNotFound()
    config, _ = WaitingRoomConfig.objects.select_related("event").get_or_create(
        event=event,
        defaults={
            "prequeue_opens_at": event.onsale_at
            - timedelta(minutes=settings.WAITINGROOM_DEFAULT_PREQUEUE_MINUTES),
            "onsale_at": event.onsale_at,
            "rate_per_minute": settings.WAITINGROOM_DEFAULT_RATE_PER_MINUTE,
            "burst": settings.WAITINGROOM_DEFAULT_BURST,
            "max_active": settings.WAITINGROOM_DEFAULT_MAX_ACTIVE,
            "session_seconds": settings.WAITINGROOM_DEFAULT_SESSION_SECONDS,
            "claim_seconds": settings.WAITINGROOM_DEFAULT_CLAIM_SECONDS,
            "max_seats_per_fan": settings.WAITINGROOM_DEFAULT_MAX_SEATS_PER_FAN,
        },
    )
    return config


def waitingroom_live_config_push(
    *, config: WaitingRoomConfig, force: bool = False
) -> bool:
    """Copy `config` (and its event's status) into Redis, where the scripts read
    it; a newer version already there wins unless `force` (used only when the
    database holds an older version than Redis, i.e. a change was rolled back).
    Registers the room with the beat tick. Returns whether it was written."""
    written = scripts.config_put_run(
        event_id=config.event_id,
        version=config.version,
        force=force,
        fields={
            "state": config.state,
            "ev": config.event.status,
            "pq_at": _ms(config.prequeue_opens_at),
            "onsale": _ms(config.onsale_at),
            "rate": config.rate_per_minute,
            "burst": config.burst,
            "max_active": config.max_active,
            "session_s": config.session_seconds,
            "claim_s": config.claim_seconds,
            "max_seats": config.max_seats_per_fan,
        },
    )
    scripts.rooms_add(event_id=config.event_id)
    return written


def _live_config_seed(*, event_id: int) -> None:
    """The live copy is missing (first use, or Redis lost it): rebuild it."""
    waitingroom_live_config_push(config=waitingroom_config_ensure(event_id=event_id))


# --- evaluation, draw ---------------------------------------------------------


def prequeue_draw(*, event_id: int) -> scripts.DrawResult:
    """Draw the pre-queue: once per event, at the first evaluation or join
    after the on-sale starts. The seed comes from the OS's CSPRNG and is
    unknown to anyone until it is published with the result, so no joiner can
    position themselves; the permutation is a pure function of the seed and
    the pre-queue's members (see `draw.py`). Concurrent callers are safe: the
    script draws only if no draw is recorded, and each caller passes its own
    seed, only the winner's is used.
    """
    result = scripts.draw_run(event_id=event_id, seed=secrets.token_hex(16))
    if result.outcome == ScriptOutcome.OK:
        logger.info(
            "pre-queue drawn",
            extra={"event_id": event_id, "size": result.size, "seed": result.seed},
        )
    return result


def admission_evaluate(*, event_id: int, user_id: int | None = None) -> RoomEvaluation:
    """Evaluate the room now: purge ended sessions and lapsed claims, admit as
    many as the token bucket, the queue and `max_active` allow, and report the
    status (and `user_id`'s place). One script call; re-seeds the live config
    and runs the pre-queue draw first when needed. Raises EventNotFound for an
    unknown event."""
    for _ in range(_RETRIES):
        evaluation = scripts.evaluate_run(event_id=event_id, user_id=user_id)
        if evaluation is None:
            _live_config_seed(event_id=event_id)
            continue
        if evaluation.draw_due:
            prequeue_draw(event_id=event_id)
            continue
        return evaluation
    raise RuntimeError(f"waiting room of event {event_id} did not settle")
