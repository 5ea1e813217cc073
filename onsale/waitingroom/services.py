"""The waiting room's rules: joining, the pre-queue draw, admission, sessions,
and the configuration organizers change live.

Queue state lives in Redis and every decision that could over-admit is one Lua
script (see `scripts.py`); MySQL holds the configuration, which is copied into
Redis on every change and re-seeded from MySQL whenever the copy is missing.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onsale.events import exceptions as event_exceptions
from onsale.events import selectors as event_selectors
from onsale.events.models import Event
from onsale.platform.db import locked
from onsale.platform.exceptions import DomainError
from onsale.platform.observability import telemetry
from onsale.usermgmt.audit import audit_record
from onsale.usermgmt.models import User
from onsale.waitingroom import exceptions, scripts, stock
from onsale.waitingroom.access import AccessClaims, access_token_issue
from onsale.waitingroom.admission import (
    _RETRIES,
    _live_config_seed,
    admission_evaluate,
    ms_to_datetime,
    prequeue_draw,
    waitingroom_config_ensure,
    waitingroom_live_config_push,
)
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.scripts import (
    ReclaimOutcome,
    RejoinOutcome,
    RoomEvaluation,
    ScriptOutcome,
    SessionRecord,
    SessionStartOutcome,
)

logger = logging.getLogger(__name__)

# Bounds of what an organizer may set. Wide enough for any real on-sale, narrow
# enough that the integer arithmetic in the scripts stays exact.
LIMITS: dict[str, tuple[int, int]] = {
    "rate_per_minute": (0, 1_000_000),
    "burst": (1, 1_000_000),
    "max_active": (1, 1_000_000),
    "session_seconds": (60, 24 * 3600),
    "claim_seconds": (10, 24 * 3600),
    "max_seats_per_fan": (1, 100),
}


@dataclass(frozen=True)
class AccessGrant:
    token: str
    claims: AccessClaims


@dataclass(frozen=True)
class QueuePosition:
    """One fan's place and what it means now.

    `state`: prequeue | waiting | admitted | active | lapsed | expired | done.
    `lapsed`: the turn came and its claim window ended unclaimed, and it can
    still be taken back until `grace_ends_at` (`queue_turn_reclaim`); after
    that it is `expired`. `number` is None while the fan is in the undrawn
    pre-queue. `ahead` counts
    the numbers before this one not yet admitted; the wait estimate divides
    that by the measured admission rate (None when nothing was measured).
    """

    event_id: int
    user_id: int
    number: int | None
    state: str
    serving: int
    ahead: int | None
    estimated_wait_seconds: int | None
    claim_deadline: datetime | None = None
    session_ends_at: datetime | None = None
    grant: AccessGrant | None = None
    grace_ends_at: datetime | None = None


@dataclass(frozen=True)
class QueuePlace:
    """What joining gave the fan (see QueuePosition for the states)."""

    event_id: int
    user_id: int
    number: int | None
    state: str
    joined_now: bool


# --- configuration ------------------------------------------------------------


def _event_for_organizer(*, event_id: int, actor: User) -> Event:
    """The event if `actor` runs it (its organization's organizers, or staff);
    `event_not_found` otherwise, exactly as for a missing event, so ids cannot
    be probed. The rule itself belongs to the event catalog."""
    return event_selectors.event_get_for_organizer(event_id=event_id, viewer=actor)


def waitingroom_config_get_for_organizer(
    *, event_id: int, actor: User
) -> WaitingRoomConfig:
    """The configuration of an event `actor` runs (created with defaults on
    first use); EventNotFound for anyone else's event."""
    _event_for_organizer(event_id=event_id, actor=actor)
    return waitingroom_config_ensure(event_id=event_id)


def waitingroom_config_update(
    *,
    event_id: int,
    actor: User,
    state: str | None = None,
    prequeue_opens_at: datetime | None = None,
    onsale_at: datetime | None = None,
    rate_per_minute: int | None = None,
    burst: int | None = None,
    max_active: int | None = None,
    session_seconds: int | None = None,
    claim_seconds: int | None = None,
    max_seats_per_fan: int | None = None,
) -> WaitingRoomConfig:
    """Change the given fields (None leaves a field as it is) of an event
    `actor` runs, and make the change live: the row is updated under a lock
    with its version raised by one, and on commit the live copy in Redis is
    overwritten, so the next evaluation (within a second: the beat tick runs
    every second) uses it. The pre-queue must open no later than the on-sale.

    Changing `onsale_at` after the pre-queue was drawn changes nothing (the draw
    happens once). Lowering `max_active` below the sessions running ends none of
    them; it only stops admissions until enough have finished. Audited as
    `waitingroom.update` (changed fields, before and after) in the same
    transaction.
    """
    event = _event_for_organizer(event_id=event_id, actor=actor)
    changes = {
        name: value
        for name, value in {
            "state": state,
            "prequeue_opens_at": prequeue_opens_at,
            "onsale_at": onsale_at,
            "rate_per_minute": rate_per_minute,
            "burst": burst,
            "max_active": max_active,
            "session_seconds": session_seconds,
            "claim_seconds": claim_seconds,
            "max_seats_per_fan": max_seats_per_fan,
        }.items()
        if value is not None
    }
    if state is not None and state not in WaitingRoomConfig.State.values:
        raise exceptions.InvalidWaitingRoomConfig(extra={"field": "state"})
    for name, (low, high) in LIMITS.items():
        value = changes.get(name)
        if isinstance(value, int) and not low <= value <= high:
            raise exceptions.InvalidWaitingRoomConfig(
                f"{name} must be between {low} and {high}.",
                extra={"field": name, "min": low, "max": high},
            )
    waitingroom_config_ensure(event_id=event_id)
    with transaction.atomic():
        config = locked(WaitingRoomConfig.objects.select_related("event")).get(
            event_id=event_id
        )
        before = {name: getattr(config, name) for name in changes}
        for name, value in changes.items():
            setattr(config, name, value)
        if config.prequeue_opens_at > config.onsale_at:
            raise exceptions.InvalidWaitingRoomConfig(
                "The pre-queue must open no later than the on-sale.",
                extra={"field": "prequeue_opens_at"},
            )
        config.version += 1
        config.updated_at = timezone.now()
        config.save()
        audit_record(
            actor=actor,
            organization=event.organization_id,
            event_id=event_id,
            action="waitingroom.update",
            before=before,
            after=changes,
        )
        transaction.on_commit(lambda: waitingroom_live_config_push(config=config))
    logger.info(
        "waiting room configured",
        extra={
            "event_id": event_id,
            "user_id": actor.pk,
            "changes": sorted(changes),
            "version": config.version,
        },
    )
    return config


# --- evaluation, draw ---------------------------------------------------------


def _public_evaluation(*, event_id: int, user_id: int | None) -> RoomEvaluation:
    evaluation = admission_evaluate(event_id=event_id, user_id=user_id)
    if evaluation.event_status == Event.Status.DRAFT:
        raise event_exceptions.EventNotFound()
    return evaluation


def rooms_tick() -> int:
    """The beat task's work, every second: keep each registered room's live
    config in step with MySQL (a failed push, a catalog status change, a
    rolled-back change) and evaluate it, so an idle room still admits and
    purges. Rooms of deleted events, and closed rooms with no session left,
    are dropped from the tick (fans' requests still evaluate them). Returns
    rooms evaluated."""
    event_ids = scripts.rooms_list()
    if not event_ids:
        return 0
    configs = {
        config.event_id: config
        for config in WaitingRoomConfig.objects.select_related("event").filter(
            event_id__in=event_ids
        )
    }
    live = scripts.live_config_versions(event_ids=event_ids)
    evaluated = 0
    for event_id in event_ids:
        config = configs.get(event_id)
        if config is None:
            if not Event.objects.filter(pk=event_id).exists():
                scripts.live_config_delete(event_id=event_id)
                scripts.rooms_remove(event_id=event_id)
            continue
        current = live[event_id]
        if current != (config.version, config.event.status):
            waitingroom_live_config_push(
                config=config,
                force=current is not None and current[0] > config.version,
            )
        evaluation = admission_evaluate(event_id=event_id)
        evaluated += 1
        if (
            evaluation.state == WaitingRoomConfig.State.CLOSED
            and evaluation.active == 0
            and evaluation.admitted_unclaimed == 0
        ):
            # Nothing left to move; a change by the organizer registers it again.
            scripts.rooms_remove(event_id=event_id)
    return evaluated


# --- joining ------------------------------------------------------------------


def queue_join(*, event_id: int, user_id: int, ip: str) -> QueuePlace:
    """Give the fan a place; calling again returns the same place.

    Before the on-sale the place is in the pre-queue (number None until the
    draw); from the on-sale, numbers are handed out first-come-first-served.
    Joins to an event are limited per client address
    (WAITINGROOM_JOIN_LIMIT_PER_IP per WAITINGROOM_JOIN_LIMIT_WINDOW_SECONDS;
    JoinRateLimited with Retry-After), counted by the join script in the same
    round trip.
    A closed room (or cancelled event) raises QueueClosed, a room before its
    pre-queue opens QueueNotOpen, an unknown or unpublished event EventNotFound;
    on every failure nothing is written but the rate-limit count.
    """
    started = time.perf_counter()
    limit = scripts.JoinLimit(
        ip=ip,
        per_window=settings.WAITINGROOM_JOIN_LIMIT_PER_IP,
        window_seconds=settings.WAITINGROOM_JOIN_LIMIT_WINDOW_SECONDS,
    )
    for attempt in range(_RETRIES):
        result = scripts.join_run(
            event_id=event_id, user_id=user_id, limit=limit, count=attempt == 0
        )
        if result.outcome == ScriptOutcome.RATE_LIMITED:
            raise exceptions.JoinRateLimited(
                retry_after=max(1, math.ceil(result.retry_after_ms / 1000))
            )
        if result.outcome == ScriptOutcome.NO_CONFIG:
            _live_config_seed(event_id=event_id)
            continue
        if result.outcome == ScriptOutcome.DRAW_DUE:
            prequeue_draw(event_id=event_id)
            continue
        break
    else:
        raise RuntimeError(f"waiting room of event {event_id} did not settle")
    if result.outcome == ScriptOutcome.UNPUBLISHED:
        raise event_exceptions.EventNotFound()
    if result.outcome == ScriptOutcome.CLOSED:
        raise exceptions.QueueClosed()
    if result.outcome == ScriptOutcome.NOT_OPEN:
        raise exceptions.QueueNotOpen(
            extra={
                "prequeue_opens_at": ms_to_datetime(
                    result.prequeue_opens_ms
                ).isoformat()
            }
        )
    if result.joined_now:
        telemetry.record_event(
            telemetry.QUEUE_JOIN,
            event_id=event_id,
            queue_number=result.number or None,
            pre_queue=result.number == 0,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
    if result.number == 0:
        return QueuePlace(event_id, user_id, None, "prequeue", result.joined_now)
    state = "waiting"
    if not result.joined_now:
        # A returning fan may be further along than waiting.
        state = queue_position_get(event_id=event_id, user_id=user_id).state
    return QueuePlace(event_id, user_id, result.number, state, result.joined_now)


# --- positions and sessions ---------------------------------------------------


def _grant_for(*, event_id: int, user_id: int, session: SessionRecord) -> AccessGrant:
    claims = AccessClaims(
        user_id=user_id,
        event_id=event_id,
        session_id=session.session_id,
        issued_at=session.issued_ms // 1000,
        expires_at=session.end_ms // 1000,
    )
    return AccessGrant(token=access_token_issue(claims=claims), claims=claims)


def _position(
    *, event_id: int, user_id: int, evaluation: RoomEvaluation
) -> QueuePosition:
    number = evaluation.number
    if number is None:
        raise exceptions.NotInQueue()
    serving = evaluation.serving
    if number == 0:
        return QueuePosition(event_id, user_id, None, "prequeue", serving, None, None)
    session = evaluation.session
    if session is not None and session.number == number:
        if session.ended:
            state = "done"
        elif session.end_ms > evaluation.now_ms:
            return QueuePosition(
                event_id,
                user_id,
                number,
                "active",
                serving,
                0,
                0,
                session_ends_at=ms_to_datetime(session.end_ms),
            )
        else:
            state = "expired"
        return QueuePosition(event_id, user_id, number, state, serving, 0, 0)
    if number > serving:
        ahead = number - serving - 1
        rate = evaluation.measured_rate_per_minute
        wait = math.ceil((ahead + 1) * 60 / rate) if rate else None
        return QueuePosition(event_id, user_id, number, "waiting", serving, ahead, wait)
    deadline = evaluation.claim_deadline_ms
    if deadline is not None and deadline > evaluation.now_ms:
        return QueuePosition(
            event_id,
            user_id,
            number,
            "admitted",
            serving,
            0,
            0,
            claim_deadline=ms_to_datetime(deadline),
        )
    grace_end = evaluation.grace_end_ms
    if grace_end is not None and grace_end > evaluation.now_ms:
        return QueuePosition(
            event_id,
            user_id,
            number,
            "lapsed",
            serving,
            0,
            0,
            grace_ends_at=ms_to_datetime(grace_end),
        )
    return QueuePosition(event_id, user_id, number, "expired", serving, 0, 0)


def queue_position_get(*, event_id: int, user_id: int) -> QueuePosition:
    """The fan's place without claiming anything (the web page's first render).
    Evaluates the room first, so a fan who is due is admitted. NotInQueue if the
    fan has not joined, EventNotFound for an unknown or unpublished event."""
    evaluation = _public_evaluation(event_id=event_id, user_id=user_id)
    return _position(event_id=event_id, user_id=user_id, evaluation=evaluation)


def queue_me(*, event_id: int, user_id: int) -> QueuePosition:
    """The fan's place, and the claim: an admitted fan's first call starts the
    shopping session (the slot was reserved for them; starting it only starts
    the session clock) and every call while it runs returns the same access
    token. Idempotent. A claim window that lapses in between gives `expired`."""
    evaluation = _public_evaluation(event_id=event_id, user_id=user_id)
    position = _position(event_id=event_id, user_id=user_id, evaluation=evaluation)
    if position.state == "admitted":
        try:
            grant = admission_session_start(event_id=event_id, user_id=user_id)
        except exceptions.AdmissionExpired:
            return QueuePosition(
                event_id, user_id, position.number, "expired", position.serving, 0, 0
            )
        return _shopping(
            position,
            session_ends_at=datetime.fromtimestamp(grant.claims.expires_at, tz=UTC),
            grant=grant,
        )
    if position.state == "active" and evaluation.session is not None:
        grant = _grant_for(
            event_id=event_id, user_id=user_id, session=evaluation.session
        )
        return _shopping(
            position, session_ends_at=position.session_ends_at, grant=grant
        )
    return position


def _shopping(
    position: QueuePosition, *, session_ends_at: datetime | None, grant: AccessGrant
) -> QueuePosition:
    """`position` as a fan whose shopping session runs: nobody ahead, no wait."""
    return replace(
        position,
        state="active",
        ahead=0,
        estimated_wait_seconds=0,
        claim_deadline=None,
        session_ends_at=session_ends_at,
        grant=grant,
    )


def admission_session_start(*, event_id: int, user_id: int) -> AccessGrant:
    """Start an admitted shopping session directly (used by claim, and by other apps' tests as
    the fixture for 'an admitted fan'): counts toward max_active, returns
    AccessGrant(token: str, claims: AccessClaims).

    A fan with a place must have been admitted (NotAdmitted otherwise) and
    claims within `claim_seconds` (AdmissionExpired after, or once their
    session for that place has ended or expired: one session per place). A fan
    without a place is admitted directly if a slot is free (RoomFull if not).
    A fan whose session is running gets that session again (same token).
    """
    started = time.perf_counter()
    for _ in range(_RETRIES):
        result = scripts.session_start_run(
            event_id=event_id,
            user_id=user_id,
            session_id=secrets.token_urlsafe(16),
        )
        if result.outcome != SessionStartOutcome.NO_CONFIG:
            break
        _live_config_seed(event_id=event_id)
    else:
        raise RuntimeError(f"waiting room of event {event_id} did not settle")
    if result.outcome == SessionStartOutcome.NOT_ADMITTED:
        raise exceptions.NotAdmitted()
    if result.outcome in (SessionStartOutcome.LAPSED, SessionStartOutcome.ENDED):
        raise exceptions.AdmissionExpired()
    if result.outcome == SessionStartOutcome.ROOM_FULL:
        raise exceptions.RoomFull()
    if result.outcome == SessionStartOutcome.STARTED:
        logger.info(
            "shopping session started",
            extra={"event_id": event_id, "user_id": user_id, "number": result.number},
        )
        if result.number:
            telemetry.record_event(
                telemetry.ADMISSION,
                event_id=event_id,
                queue_number=result.number,
                waited_seconds=None
                if result.waited_ms is None
                else round(result.waited_ms / 1000, 1),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            )
    return _grant_for(
        event_id=event_id,
        user_id=user_id,
        session=SessionRecord(
            result.session_id, result.issued_ms, result.end_ms, False, 0
        ),
    )


def admission_session_end(*, event_id: int, session_id: str) -> None:
    """End a session (checkout done / released); frees its max_active slot. Idempotent."""
    if scripts.session_end_run(event_id=event_id, session_id=session_id):
        logger.info("shopping session ended", extra={"event_id": event_id})


def queue_session_finish(*, event_id: int, user_id: int) -> None:
    """The fan ends their own running session early (POST .../queue/done).
    Idempotent: nothing happens if no session runs."""
    session = scripts.session_record_get(event_id=event_id, user_id=user_id)
    if session is None or session.ended:
        return
    admission_session_end(event_id=event_id, session_id=session.session_id)


# --- lapsed turns -------------------------------------------------------------


def queue_turn_reclaim(
    *, event_id: int, user_id: int, number: int | None = None
) -> QueuePosition:
    """Take back a turn that lapsed: the fan was admitted, missed the claim
    window (a locked phone, a background tab) and comes back within
    WAITINGROOM_GRACE_SECONDS after it. They keep their number and their
    shopping session starts now, in a free slot under `max_active`; the room
    counts the turn as taken back. `number` is the place the fan means (the
    one their page shows), so a click on a stale page cannot act on a place
    the fan has since exchanged (PlaceChanged).

    A turn whose claim window is still open is simply claimed. A second call
    while the session runs returns that session (same token): a double click
    or a retried request starts nothing more.

    Refused, with nothing changed: EventSoldOut when nothing is left to
    choose, AdmissionPaused while the room is paused, RoomFull with no free
    slot (all three leave the turn reclaimable until its grace ends, so the
    fan may try again); QueueClosed for a closed room or cancelled event;
    TurnGraceOver once the grace period is over (the fan may rejoin at the
    back); NotAdmitted before the turn came; AdmissionExpired when this
    place's session already ran; NotInQueue without a place. The sold-out
    check is read just before the script (see `stock.py`); every other rule
    is decided in one script.
    """
    evaluation = _public_evaluation(event_id=event_id, user_id=user_id)
    position = _position(event_id=event_id, user_id=user_id, evaluation=evaluation)
    if position.state == "lapsed" and stock.event_sold_out(event_id=event_id):
        raise exceptions.EventSoldOut(extra=_grace_extra(position))
    for _ in range(_RETRIES):
        result = scripts.reclaim_run(
            event_id=event_id,
            user_id=user_id,
            session_id=secrets.token_urlsafe(16),
            number=number,
        )
        if result.outcome != ReclaimOutcome.NO_CONFIG:
            break
        _live_config_seed(event_id=event_id)
    else:
        raise RuntimeError(f"waiting room of event {event_id} did not settle")
    refusals: dict[ReclaimOutcome, type[DomainError]] = {
        ReclaimOutcome.NOT_IN_QUEUE: exceptions.NotInQueue,
        ReclaimOutcome.NOT_ADMITTED: exceptions.NotAdmitted,
        ReclaimOutcome.GRACE_OVER: exceptions.TurnGraceOver,
        ReclaimOutcome.ENDED: exceptions.AdmissionExpired,
        ReclaimOutcome.PLACE_CHANGED: exceptions.PlaceChanged,
        ReclaimOutcome.CLOSED: exceptions.QueueClosed,
    }
    if result.outcome in refusals:
        raise refusals[result.outcome]()
    if result.outcome in (ReclaimOutcome.PAUSED, ReclaimOutcome.ROOM_FULL):
        error = (
            exceptions.AdmissionPaused
            if result.outcome == ReclaimOutcome.PAUSED
            else exceptions.RoomFull
        )
        raise error(
            extra=_grace_extra(queue_position_get(event_id=event_id, user_id=user_id)),
            retry_after=5,
        )
    if result.taken_back:
        logger.info(
            "lapsed turn taken back",
            extra={"event_id": event_id, "user_id": user_id, "number": result.number},
        )
    session = SessionRecord(
        result.session_id, result.issued_ms, result.end_ms, False, result.number
    )
    grant = _grant_for(event_id=event_id, user_id=user_id, session=session)
    status = queue_position_get(event_id=event_id, user_id=user_id)
    return _shopping(status, session_ends_at=ms_to_datetime(result.end_ms), grant=grant)


def _grace_extra(position: QueuePosition) -> dict[str, str]:
    """A refusal's extra: until when the fan may try again, if they may."""
    if position.grace_ends_at is None:
        return {}
    return {"grace_ends_at": position.grace_ends_at.isoformat()}


def queue_rejoin(
    *, event_id: int, user_id: int, ip: str, number: int | None = None
) -> QueuePlace:
    """Give up a place whose turn is over for a new number at the back of the
    line, behind everyone already waiting. The turn is over when it lapsed
    unclaimed (within the grace period, when the fan prefers to wait again, or
    after it) or its session ended or ran out. The account still has one
    place: the old number stops counting (it can no longer be taken back) in
    the same script that issues the new one, so a rejoin and a reclaim that
    race end with exactly one of them done.

    `number` is the place given up (the one the fan's page shows): a second
    call with the same number (a double click, a retried request) returns the
    new place again, `joined_now` False, and issues nothing. Counted against
    the address's join limit like a join (JoinRateLimited). Refused, with
    nothing changed: EventSoldOut when nothing is left to sell (the fan keeps
    the place they had), TurnNotOver while the turn has not come or still
    runs, QueueClosed, NotInQueue, PlaceChanged for a number the fan never
    had, EventNotFound for an unpublished event.
    """
    limit = scripts.JoinLimit(
        ip=ip,
        per_window=settings.WAITINGROOM_JOIN_LIMIT_PER_IP,
        window_seconds=settings.WAITINGROOM_JOIN_LIMIT_WINDOW_SECONDS,
    )
    if stock.event_sold_out(event_id=event_id):
        # Nothing to wait for at the back. A repeat of a rejoin that was done
        # (the fan's place is no longer `number`) still gets its answer.
        current = queue_position_get(event_id=event_id, user_id=user_id)
        if number is None or current.number == number:
            raise exceptions.EventSoldOut()
    for attempt in range(_RETRIES):
        result = scripts.rejoin_run(
            event_id=event_id,
            user_id=user_id,
            number=number,
            limit=limit,
            count=attempt == 0,
        )
        if result.outcome != RejoinOutcome.NO_CONFIG:
            break
        _live_config_seed(event_id=event_id)
    else:
        raise RuntimeError(f"waiting room of event {event_id} did not settle")
    if result.outcome == RejoinOutcome.RATE_LIMITED:
        raise exceptions.JoinRateLimited(
            retry_after=max(1, math.ceil(result.retry_after_ms / 1000))
        )
    refusals: dict[RejoinOutcome, type[DomainError]] = {
        RejoinOutcome.UNPUBLISHED: event_exceptions.EventNotFound,
        RejoinOutcome.CLOSED: exceptions.QueueClosed,
        RejoinOutcome.NOT_IN_QUEUE: exceptions.NotInQueue,
        RejoinOutcome.TURN_NOT_COME: exceptions.TurnNotOver,
        RejoinOutcome.TURN_RUNNING: exceptions.TurnNotOver,
        RejoinOutcome.NO_SUCH_PLACE: exceptions.PlaceChanged,
    }
    if result.outcome in refusals:
        raise refusals[result.outcome]()
    joined_now = result.outcome == RejoinOutcome.REJOINED
    if joined_now:
        logger.info(
            "rejoined at the back",
            extra={
                "event_id": event_id,
                "user_id": user_id,
                "given_up": number,
                "number": result.number,
            },
        )
    state = queue_position_get(event_id=event_id, user_id=user_id).state
    return QueuePlace(event_id, user_id, result.number, state, joined_now)
