"""Holds: taking, releasing, confirming and expiring them.

The hold path keeps MySQL out of the contention: which seats are held lives in
Redis and every hold is one Lua script that takes all requested seats or none.
MySQL stays the truth for what was sold (`SeatSale`, UNIQUE per seat); the
Redis "sold" state is rebuilt from it whenever Redis lost the event's keys.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from onsale.platform.exceptions import DomainError
from onsale.platform.observability import telemetry
from onsale.platform.observability.telemetry import record_event
from onsale.seatselection import scripts
from onsale.seatselection.exceptions import (
    HoldExpired,
    HoldNotFound,
    HoldRequestInvalid,
    HoldSessionEnded,
    NotEnoughSeats,
    SeatLimitReached,
    SeatsContended,
    SeatStateUnavailable,
    SeatsUnavailable,
)
from onsale.seatselection.layout import (
    SeatLayout,
    seat_layout_get,
)
from onsale.seatselection.seat_state import seat_state_ensure
from onsale.seatselection.selectors import (
    AvailabilitySnapshot,
    Hold,
    availability_snapshot,
    hold_from_stored,
    hold_layout_get,
)
from onsale.waitingroom.selectors import max_seats_per_fan_get

# --- Holds ----------------------------------------------------------------------

# Best-available tries this many candidates before giving up on a hot category.
_BEST_AVAILABLE_ATTEMPTS = 10
# Only spreads racing fans over equally good seats; not security-relevant.
_random = random.SystemRandom()
# A lost state is rebuilt and the hold retried at most this often per call.
_REBUILD_ATTEMPTS = 3


@dataclass(frozen=True)
class _Candidate:
    indexes: list[int]
    adjacent: bool


_LAYOUT_DEPENDENT_CODES = frozenset({"hold_unknown_seats", "hold_unknown_category"})


class _StateRebuilt(Exception):
    """The seat state was missing or built for another layout and has been
    rebuilt: work out the request again against the current layout."""


def _hold_run(
    *,
    layout: SeatLayout,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    max_seats_per_fan: int,
    seat_indexes: Sequence[int],
    general_admission: Sequence[tuple[str, int]],
) -> scripts.HoldScriptResult:
    result = scripts.hold_script(
        event_id=layout.event_id,
        layout_id=layout.layout_id,
        user_id=user_id,
        session_id=session_id,
        session_end_ms=session_expires_at * 1000,
        ttl_ms=settings.SEAT_HOLD_SECONDS * 1000,
        max_seats_per_fan=max_seats_per_fan,
        seat_indexes=seat_indexes,
        general_admission=general_admission,
    )
    if result.status == "rebuild":
        seat_state_ensure(event_id=layout.event_id)
        raise _StateRebuilt()
    return result


def _hold_result(
    *,
    layout: SeatLayout,
    result: scripts.HoldScriptResult,
    user_id: int,
    session_id: str,
    seat_indexes: Sequence[int],
    general_admission: Sequence[tuple[str, int]],
    requested: int,
    adjacent: bool | None = None,
) -> Hold:
    if result.status == "ok":
        stored = scripts.StoredHold(
            hold_id=result.hold_id,
            event_id=layout.event_id,
            layout_id=layout.layout_id,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=tuple(seat_indexes),
            general_admission=dict(general_admission),
            expires_ms=result.expires_ms,
        )
        return hold_from_stored(
            layout=layout,
            stored=stored,
            adjacent=adjacent,
            replaced_hold_id=result.replaced_hold_id,
            version=result.version,
        )
    if result.status == "taken":
        raise SeatsUnavailable(
            extra={"seat_ids": [layout.seat_ids[index] for index in result.taken]}
        )
    if result.status == "ga_short":
        raise NotEnoughSeats(
            extra={"category": result.ga_code, "available": result.available}
        )
    if result.status == "fan_limit":
        raise SeatLimitReached(
            extra={
                "held": result.held_elsewhere,
                "requested": requested,
                "max_seats_per_fan": result.limit,
            }
        )
    raise HoldSessionEnded()


def _max_seats_per_fan(event_id: int) -> int:
    return max_seats_per_fan_get(event_id=event_id)


def hold_create(
    *,
    event_id: int,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None = None,
    category: str | None = None,
    quantity: int | None = None,
    max_seats_per_fan: int | None = None,
) -> Hold:
    """Hold seats for an admitted fan: all of them or none.

    Either `seat_ids` (chosen on the map) or `category` + `quantity` ("best
    available" for reserved seating: adjacent seats in one row where any row
    has them, best rows first; for a general-admission category: places
    against its capacity). One Lua script checks and takes everything, so
    parallel requests cannot both get a seat, exceed a GA capacity or the
    per-fan limit (`max_seats_per_fan` across all the fan's holds of the event;
    default: the waiting room's setting).

    The hold lives `SEAT_HOLD_SECONDS`, never past the fan's session end
    (`session_expires_at`, epoch seconds), then frees itself. A session has one
    active hold: a new hold replaces it atomically (if the new seats cannot be
    taken, the old hold stays). Each hold gets a larger id than every earlier
    hold of the event (the fencing token checkout checks).

    Errors (nothing is held on any of them): `HoldRequestInvalid` (malformed:
    empty, duplicate, unknown or too many seats, unknown category),
    `SeatsUnavailable` (lists the seats just taken), `NotEnoughSeats`,
    `SeatsContended`, `SeatLimitReached`, `HoldSessionEnded`.
    If Redis lost the event's state, it is rebuilt from MySQL before any seat
    is granted. Every outcome is recorded as a `HoldCreated` / `HoldRejected`
    business event.
    """
    started = time.perf_counter()
    mode = "seats" if seat_ids is not None else "best_available"
    requested = len(seat_ids) if seat_ids is not None else (quantity or 0)
    try:
        hold = _hold_create(
            event_id=event_id,
            user_id=user_id,
            session_id=session_id,
            session_expires_at=session_expires_at,
            seat_ids=seat_ids,
            category=category,
            quantity=quantity,
            max_seats_per_fan=max_seats_per_fan,
        )
    except DomainError as exc:
        record_event(
            telemetry.HOLD_REJECTED,
            event_id=event_id,
            reason=exc.code,
            seats=requested,
            mode=mode,
            category=category,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        raise
    record_event(
        telemetry.HOLD_CREATED,
        event_id=event_id,
        hold_id=hold.hold_id,
        seats=len(hold.seat_ids) + sum(hold.general_admission.values()),
        mode=mode,
        category=category,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return hold


def _hold_create(
    *,
    event_id: int,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None = None,
    category: str | None = None,
    quantity: int | None = None,
    max_seats_per_fan: int | None = None,
) -> Hold:
    """`hold_create` without the telemetry. Seat ids are stable; the seat
    indexes the scripts use belong to one layout, so if the state turns out
    to be missing or built for another layout, it is rebuilt and the request
    worked out again against the current layout."""
    if (seat_ids is None) == (category is None):
        raise HoldRequestInvalid(
            "Ask either for seats or for a category and a quantity.",
            code="hold_invalid",
        )
    if max_seats_per_fan is None:
        max_seats_per_fan = _max_seats_per_fan(event_id)
    fresh = False
    for _ in range(_REBUILD_ATTEMPTS):
        layout = seat_layout_get(event_id=event_id, fresh=fresh)
        try:
            return _hold_attempt(
                layout=layout,
                user_id=user_id,
                session_id=session_id,
                session_expires_at=session_expires_at,
                seat_ids=seat_ids,
                category=category,
                quantity=quantity,
                max_seats_per_fan=max_seats_per_fan,
            )
        except _StateRebuilt:
            continue
        except HoldRequestInvalid as exc:
            # Seats or a category this process's copy of the map does not
            # know: if the copy may be behind, check with MySQL once.
            if fresh or exc.code not in _LAYOUT_DEPENDENT_CODES:
                raise
            fresh = True
    raise SeatStateUnavailable(retry_after=1)


def _hold_attempt(
    *,
    layout: SeatLayout,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None,
    category: str | None,
    quantity: int | None,
    max_seats_per_fan: int,
) -> Hold:
    limit = settings.SEAT_HOLD_MAX_SEATS_PER_REQUEST
    common: dict[str, Any] = {
        "layout": layout,
        "user_id": user_id,
        "session_id": session_id,
        "session_expires_at": session_expires_at,
        "max_seats_per_fan": max_seats_per_fan,
    }
    if seat_ids is not None:
        indexes = _hold_seat_indexes(layout=layout, seat_ids=seat_ids, limit=limit)
        result = _hold_run(**common, seat_indexes=indexes, general_admission=())
        return _hold_result(
            layout=layout,
            result=result,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=indexes,
            general_admission=(),
            requested=len(indexes),
        )
    assert category is not None
    info = layout.categories.get(category)
    if info is None:
        raise HoldRequestInvalid(
            "There is no such category.",
            code="hold_unknown_category",
            extra={"category": category},
        )
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= limit
    ):
        raise HoldRequestInvalid(
            f"The quantity must be between 1 and {limit}.",
            code="hold_invalid_quantity",
            extra={"max": limit},
        )
    if info.general_admission:
        general = ((category, quantity),)
        result = _hold_run(**common, seat_indexes=(), general_admission=general)
        return _hold_result(
            layout=layout,
            result=result,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=(),
            general_admission=general,
            requested=quantity,
        )
    return _hold_best_available(common=common, category=category, quantity=quantity)


def _hold_seat_indexes(
    *, layout: SeatLayout, seat_ids: Sequence[int], limit: int
) -> list[int]:
    if not seat_ids:
        raise HoldRequestInvalid("Ask for at least one seat.", code="hold_no_seats")
    if len(seat_ids) > limit:
        raise HoldRequestInvalid(
            f"At most {limit} seats per hold.",
            code="hold_too_many_seats",
            extra={"max": limit},
        )
    if any(not isinstance(pk, int) or isinstance(pk, bool) for pk in seat_ids):
        raise HoldRequestInvalid("Seat ids are integers.", code="hold_invalid")
    if len(set(seat_ids)) != len(seat_ids):
        raise HoldRequestInvalid(
            "A seat is listed more than once.", code="hold_duplicate_seats"
        )
    unknown = [pk for pk in seat_ids if pk not in layout.index_by_seat_id]
    if unknown:
        raise HoldRequestInvalid(
            "Some seats are not part of this event.",
            code="hold_unknown_seats",
            extra={"seat_ids": unknown},
        )
    return [layout.index_by_seat_id[pk] for pk in seat_ids]


def best_available_candidates(
    *,
    layout: SeatLayout,
    category: str,
    quantity: int,
    is_free: Callable[[int], bool],
    limit: int = 8,
) -> list[_Candidate]:
    """Up to `limit` sets of seats to offer for `quantity` in `category`, best
    first; empty if fewer seats are free.

    Rows are taken best first (row rank, then section, then row order). In a
    row, every run of `quantity` adjacent free seats is a candidate, the runs
    nearest the row's middle first. If no row has such a run, the one
    candidate is the best free seats in row order, not adjacent.
    `is_free(index)` says whether a seat is free.
    """
    rows = layout.rows.get(category, [])
    candidates: list[_Candidate] = []
    for row in rows:
        if len(row) < quantity:
            continue
        middle = (row[0][0] + row[-1][0]) / 2
        windows: list[tuple[float, list[int]]] = []
        run: list[tuple[int, int]] = []
        for position, index in row:
            if not is_free(index):
                run = []
                continue
            if run and position != run[-1][0] + 1:
                run = []  # a gap (another category's seat, an aisle) breaks the run
            run.append((position, index))
            if len(run) >= quantity:
                window = run[-quantity:]
                distance = abs((window[0][0] + window[-1][0]) / 2 - middle)
                windows.append((distance, [i for _, i in window]))
        windows.sort(key=lambda item: item[0])
        for _, indexes in windows:
            candidates.append(_Candidate(indexes=indexes, adjacent=True))
            if len(candidates) >= limit:
                return candidates
    if candidates:
        return candidates
    scattered: list[int] = []
    for row in rows:
        for _, index in row:
            if is_free(index):
                scattered.append(index)
                if len(scattered) == quantity:
                    return [_Candidate(indexes=scattered, adjacent=quantity == 1)]
    return []


def _hold_best_available(
    *, common: dict[str, Any], category: str, quantity: int
) -> Hold:
    """Pick candidates in Python from the cached map and the availability
    snapshot, claim one in Lua. A lost race re-reads the snapshot and claims
    another candidate, chosen at random among a widening set of the best ones
    so that fans racing for the same row spread out instead of colliding
    again; bounded attempts, then `SeatsContended` (409, retry)."""
    layout: SeatLayout = common["layout"]
    lost: set[int] = set()
    for attempt in range(_BEST_AVAILABLE_ATTEMPTS):
        snapshot = availability_snapshot(event_id=layout.event_id)

        def is_free(index: int, snapshot: AvailabilitySnapshot = snapshot) -> bool:
            return index not in lost and not snapshot.is_unavailable(index)

        candidates = best_available_candidates(
            layout=layout, category=category, quantity=quantity, is_free=is_free
        )
        if not candidates:
            raise NotEnoughSeats(extra={"category": category, "available": None})
        # The first try takes the best; retries spread over the best few.
        spread = min(len(candidates), 1 if attempt == 0 else 2 * attempt)
        candidate = candidates[_random.randrange(spread)]
        result = _hold_run(
            **common, seat_indexes=candidate.indexes, general_admission=()
        )
        if result.status == "taken":
            lost.update(result.taken)
            continue
        return _hold_result(
            layout=layout,
            result=result,
            user_id=common["user_id"],
            session_id=common["session_id"],
            seat_indexes=candidate.indexes,
            general_admission=(),
            requested=quantity,
            adjacent=candidate.adjacent,
        )
    raise SeatsContended(retry_after=1, extra={"category": category})


def hold_release(*, event_id: int, hold_id: int, user_id: int) -> None:
    """Release the user's hold now; its seats are free at once. Another user's
    hold, an expired or unknown id: `HoldNotFound` (the same answer, so hold
    ids cannot be probed)."""
    if not scripts.release_script(event_id=event_id, user_id=user_id, hold_id=hold_id):
        raise HoldNotFound()


def holds_expire(*, event_id: int) -> int:
    """Release the event's expired holds now (every hold and snapshot call does
    this too; the periodic task covers quiet events). Returns how many."""
    return scripts.expire_script(event_id=event_id)


# --- For checkout ----------------------------------------------------------------


def hold_extension_end(*, event_id: int, hold_id: int, user_id: int) -> datetime | None:
    """The payment a hold was extended for (`hold_confirm(extend_seconds=)`)
    failed: give the hold back its own expiry, so the fan can try again with
    the same seats until then and no longer (repeated declined attempts
    cannot keep seats held past the hold's time). A hold whose own time has
    passed is released now. Returns when the hold now expires, or None if the
    user has no such active hold (expired, released, replaced, sold)."""
    expires_ms = scripts.restore_script(
        event_id=event_id, user_id=user_id, hold_id=hold_id
    )
    if expires_ms is None:
        return None
    return datetime.fromtimestamp(expires_ms / 1000, tz=UTC)


def hold_confirm(
    *, event_id: int, hold_id: int, user_id: int, extend_seconds: int = 0
) -> Hold:
    """Check that `hold_id` is still the user's current hold and return it
    (seats, prices, total), optionally keeping it for at least
    `extend_seconds` more (while a payment runs).

    This is the fencing check: a hold that expired or was released is gone
    from Redis, even if its seats have since been held by someone else under a
    larger id, so an old hold can never be confirmed. Raises `HoldExpired`.
    """
    stored = scripts.read_script(
        event_id=event_id,
        user_id=user_id,
        hold_id=hold_id,
        extend_ms=max(0, extend_seconds) * 1000,
    )
    layout = None if stored is None else hold_layout_get(stored=stored)
    if stored is None or layout is None:
        raise HoldExpired(extra={"hold_id": hold_id})
    return hold_from_stored(layout=layout, stored=stored)
