"""Typed wrappers of the waiting room's Lua scripts; only this module knows
their KEYS and ARGV. A script reports a domain outcome as a return code; the
wrappers turn codes into enums/dataclasses, and the services raise. Every
script starts with `lua/_prelude.lua` (the clock, the placement rule)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings

from onsale.platform.redis import lua_script, redis_client
from onsale.waitingroom.clock import script_now_arg
from onsale.waitingroom.keys import (
    join_limit_key,
    place_bucket_key,
    place_bucket_keys,
    rooms_key,
    waitingroom_key,
)

_join = lua_script(__file__, "join", preludes=["_fixed_window", "_prelude"])
_draw = lua_script(__file__, "draw", preludes=["_prelude"])
_evaluate = lua_script(__file__, "evaluate", preludes=["_prelude"])
_session_start = lua_script(__file__, "session_start", preludes=["_prelude"])
_session_end = lua_script(__file__, "session_end", preludes=["_prelude"])
_config_put = lua_script(__file__, "config_put", preludes=["_prelude"])
_reclaim = lua_script(__file__, "reclaim", preludes=["_prelude"])
_rejoin = lua_script(__file__, "rejoin", preludes=["_fixed_window", "_prelude"])


def _grace_ms() -> int:
    """How long a lapsed turn can be taken back, in ms (WAITINGROOM_GRACE_SECONDS),
    passed to every script that may lapse a turn."""
    return max(0, int(settings.WAITINGROOM_GRACE_SECONDS)) * 1000


class ScriptOutcome(enum.IntEnum):
    OK = 1
    ALREADY = 2
    # Failures (negative codes in the scripts).
    NOT_DUE = -1
    CLOSED = -2
    NOT_OPEN = -3
    DRAW_DUE = -4
    RATE_LIMITED = -7
    UNPUBLISHED = -8
    NO_CONFIG = -9


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


# --- join -------------------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    outcome: ScriptOutcome
    number: int = 0  # 0: in the undrawn pre-queue
    joined_now: bool = False
    prequeue_opens_ms: int = 0
    retry_after_ms: int = 0  # RATE_LIMITED: until the address's window ends


@dataclass(frozen=True)
class JoinLimit:
    """The client address's join limit, counted by the join script itself."""

    ip: str
    per_window: int
    window_seconds: int


def _join_keys(event_id: int, user_id: int, ip: str) -> list[str]:
    return [
        waitingroom_key(event_id, "cfg"),
        waitingroom_key(event_id, "q"),
        place_bucket_key(event_id, user_id),
        waitingroom_key(event_id, "issued"),
        join_limit_key(event_id, ip),
    ]


def join_run(
    *, event_id: int, user_id: int, limit: JoinLimit, count: bool = True
) -> JoinResult:
    """Join (idempotent): the place, or why not (over the address's limit,
    closed, too early, draw due). `count=False` for the retry of a call that
    was already counted against the limit."""
    reply = _join(
        keys=_join_keys(event_id, user_id, limit.ip),
        args=[
            user_id,
            script_now_arg(),
            limit.per_window if count else "",
            limit.window_seconds * 1000,
        ],
    )
    code = int(reply[0])
    if code == 1:
        return JoinResult(ScriptOutcome.OK, int(reply[1]), bool(int(reply[2])))
    if code == ScriptOutcome.NOT_OPEN:
        return JoinResult(ScriptOutcome.NOT_OPEN, prequeue_opens_ms=int(reply[1]))
    if code == ScriptOutcome.RATE_LIMITED:
        return JoinResult(ScriptOutcome.RATE_LIMITED, retry_after_ms=int(reply[1]))
    return JoinResult(ScriptOutcome(code))


def join_queue_on(pipeline: Any, *, event_id: int, user_id: int) -> None:
    """Queue a join on a redis-py pipeline (bulk loads: benchmarks, drills;
    not counted against any address's limit); the caller reads the replies,
    shaped as in join.lua."""
    _join(
        keys=_join_keys(event_id, user_id, "bulk"),
        args=[user_id, script_now_arg(), "", 0],
        client=pipeline,
    )


# --- draw -------------------------------------------------------------------


@dataclass(frozen=True)
class DrawResult:
    outcome: ScriptOutcome  # OK: drawn by this call; ALREADY: drawn before
    seed: str = ""
    size: int = 0


def _draw_keys(event_id: int) -> list[str]:
    return [
        waitingroom_key(event_id, "cfg"),
        waitingroom_key(event_id, "q"),
        waitingroom_key(event_id, "issued"),
        *place_bucket_keys(event_id),
    ]


def draw_run(*, event_id: int, seed: str) -> DrawResult:
    """Draw the pre-queue with `seed` unless it was drawn before (then the
    recorded draw is returned) or the on-sale has not started (NOT_DUE)."""
    return draw_result(_draw(keys=_draw_keys(event_id), args=[seed, script_now_arg()]))


def draw_queue_on(pipeline: Any, *, event_id: int, seed: str) -> None:
    """Queue a draw on a redis-py pipeline (bulk: tests, drills); turn each
    reply into a DrawResult with `draw_result`."""
    _draw(keys=_draw_keys(event_id), args=[seed, script_now_arg()], client=pipeline)


def draw_result(reply: Sequence[Any]) -> DrawResult:
    code = int(reply[0])
    if code == 1:
        return DrawResult(ScriptOutcome.OK, _text(reply[1]), int(reply[2]))
    if code == 0:
        return DrawResult(ScriptOutcome.ALREADY, _text(reply[1]), int(reply[2]))
    return DrawResult(ScriptOutcome(code))


# --- evaluate ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionRecord:
    """One fan's latest session as the scripts store it."""

    session_id: str
    issued_ms: int
    end_ms: int
    ended: bool  # ended early (done), as opposed to still running or expired
    number: int  # the place it was claimed for; 0 for a direct admission

    @classmethod
    def parse(cls, text: str) -> SessionRecord | None:
        if not text:
            return None
        session_id, issued, end, status, number = text.split("|")
        return cls(session_id, int(issued), int(end), status == "d", int(number))


@dataclass(frozen=True)
class RoomEvaluation:
    """What one evaluation of the room saw (after admitting)."""

    now_ms: int
    state: str  # effective: scheduled|prequeue|open|paused|closed
    placement: str  # where a joiner lands now: scheduled|prequeue|open
    issued: int
    serving: int
    prequeue_size: int  # undrawn pre-queue
    drawn: bool
    seed: str
    drawn_size: int
    drawn_at_ms: int
    admitted_unclaimed: int
    active: int
    rate_per_minute: int
    burst: int
    max_active: int
    measured_rate_per_minute: float | None
    prequeue_opens_ms: int
    onsale_ms: int
    config_version: int
    draw_due: bool
    admitted_total: int
    event_status: str  # the catalog's: draft|published|cancelled
    turns_lapsed: int  # admitted turns whose claim window ended unclaimed
    turns_reclaimed: int  # lapsed turns taken back within the grace period
    turns_rejoined: int  # places given up for a new number at the back
    # Only when evaluated for a fan:
    number: int | None = None  # None: not in the queue; 0: undrawn pre-queue
    session: SessionRecord | None = None
    claim_deadline_ms: int | None = None
    grace_end_ms: int | None = None  # a lapsed turn: until when it can be taken back


def evaluate_run(*, event_id: int, user_id: int | None = None) -> RoomEvaluation | None:
    """Evaluate the room (admitting whoever is due); None when no live config."""
    keys = [
        waitingroom_key(event_id, "cfg"),
        waitingroom_key(event_id, "q"),
        waitingroom_key(event_id, "unclaimed"),
        waitingroom_key(event_id, "active"),
        waitingroom_key(event_id, "lapsed"),
    ]
    if user_id is not None:
        keys += [
            waitingroom_key(event_id, "sess"),
            place_bucket_key(event_id, user_id),
        ]
    reply = _evaluate(
        keys=keys,
        args=[script_now_arg(), "" if user_id is None else user_id, _grace_ms()],
    )
    return _evaluation(reply, with_user=user_id is not None)


def _evaluation(reply: Sequence[Any], *, with_user: bool) -> RoomEvaluation | None:
    if int(reply[0]) == ScriptOutcome.NO_CONFIG:
        return None
    measured = _text(reply[16])
    number = int(reply[21])
    deadline = int(reply[23])
    grace_end = int(reply[29])
    return RoomEvaluation(
        now_ms=int(reply[1]),
        state=_text(reply[2]),
        placement=_text(reply[3]),
        issued=int(reply[4]),
        serving=int(reply[5]),
        prequeue_size=int(reply[6]),
        drawn=bool(int(reply[7])),
        seed=_text(reply[8]),
        drawn_size=int(reply[9]),
        drawn_at_ms=int(reply[10]),
        admitted_unclaimed=int(reply[11]),
        active=int(reply[12]),
        rate_per_minute=int(reply[13]),
        burst=int(reply[14]),
        max_active=int(reply[15]),
        measured_rate_per_minute=float(measured) if measured else None,
        prequeue_opens_ms=int(reply[17]),
        onsale_ms=int(reply[18]),
        config_version=int(reply[19]),
        draw_due=bool(int(reply[20])),
        admitted_total=int(reply[24]),
        event_status=_text(reply[25]),
        turns_lapsed=int(reply[26]),
        turns_reclaimed=int(reply[27]),
        turns_rejoined=int(reply[28]),
        number=(None if number < 0 else number) if with_user else None,
        session=SessionRecord.parse(_text(reply[22])) if with_user else None,
        claim_deadline_ms=(None if deadline < 0 else deadline) if with_user else None,
        grace_end_ms=(None if grace_end < 0 else grace_end) if with_user else None,
    )


# --- sessions ---------------------------------------------------------------


class SessionStartOutcome(enum.IntEnum):
    STARTED = 1
    ALREADY_ACTIVE = 2
    NOT_ADMITTED = -2
    LAPSED = -3
    ENDED = -4
    ROOM_FULL = -5
    NO_CONFIG = -9


@dataclass(frozen=True)
class SessionStartResult:
    outcome: SessionStartOutcome
    session_id: str = ""
    issued_ms: int = 0
    end_ms: int = 0
    number: int = 0  # the place claimed; 0 for a direct admission
    waited_ms: int | None = None  # from join to claim (to the second)


def session_start_run(
    *, event_id: int, user_id: int, session_id: str
) -> SessionStartResult:
    """Claim the fan's admitted slot (or a free one, for a fan without a
    place) as session `session_id`; the running session if there is one."""
    reply = _session_start(
        keys=[
            waitingroom_key(event_id, "cfg"),
            waitingroom_key(event_id, "q"),
            waitingroom_key(event_id, "unclaimed"),
            waitingroom_key(event_id, "active"),
            waitingroom_key(event_id, "sess"),
            waitingroom_key(event_id, "sid"),
            place_bucket_key(event_id, user_id),
            waitingroom_key(event_id, "issued"),
            waitingroom_key(event_id, "lapsed"),
        ],
        args=[user_id, session_id, script_now_arg(), _grace_ms()],
    )
    outcome = SessionStartOutcome(int(reply[0]))
    if outcome == SessionStartOutcome.STARTED:
        waited = int(reply[5])
        return SessionStartResult(
            outcome,
            _text(reply[1]),
            int(reply[2]),
            int(reply[3]),
            int(reply[4]),
            None if waited < 0 else waited,
        )
    if outcome == SessionStartOutcome.ALREADY_ACTIVE:
        return SessionStartResult(
            outcome, _text(reply[1]), int(reply[2]), int(reply[3])
        )
    return SessionStartResult(outcome)


def session_end_run(*, event_id: int, session_id: str) -> bool:
    """End the session; True if it was still active."""
    removed = _session_end(
        keys=[
            waitingroom_key(event_id, "active"),
            waitingroom_key(event_id, "sess"),
            waitingroom_key(event_id, "sid"),
        ],
        args=[session_id],
    )
    return bool(int(removed))


# --- lapsed turns: take back, rejoin at the back --------------------------------


class ReclaimOutcome(enum.IntEnum):
    STARTED = 1
    ALREADY_ACTIVE = 2
    NOT_IN_QUEUE = -1
    NOT_ADMITTED = -2
    GRACE_OVER = -3
    ENDED = -4
    ROOM_FULL = -5
    PLACE_CHANGED = -6
    CLOSED = -7
    PAUSED = -8
    NO_CONFIG = -9


@dataclass(frozen=True)
class ReclaimResult:
    outcome: ReclaimOutcome
    session_id: str = ""
    issued_ms: int = 0
    end_ms: int = 0
    number: int = 0
    taken_back: bool = False  # False: the claim window was still open


def reclaim_run(
    *, event_id: int, user_id: int, session_id: str, number: int | None
) -> ReclaimResult:
    """Take back the fan's lapsed turn (place `number`, or whatever place the
    fan holds when None) as session `session_id`; see reclaim.lua."""
    reply = _reclaim(
        keys=[
            waitingroom_key(event_id, "cfg"),
            waitingroom_key(event_id, "q"),
            waitingroom_key(event_id, "unclaimed"),
            waitingroom_key(event_id, "active"),
            waitingroom_key(event_id, "sess"),
            waitingroom_key(event_id, "sid"),
            place_bucket_key(event_id, user_id),
            waitingroom_key(event_id, "lapsed"),
        ],
        args=[
            user_id,
            session_id,
            script_now_arg(),
            _grace_ms(),
            "" if number is None else number,
        ],
    )
    outcome = ReclaimOutcome(int(reply[0]))
    if outcome in (ReclaimOutcome.STARTED, ReclaimOutcome.ALREADY_ACTIVE):
        return ReclaimResult(
            outcome,
            _text(reply[1]),
            int(reply[2]),
            int(reply[3]),
            int(reply[4]),
            outcome == ReclaimOutcome.STARTED and bool(int(reply[5])),
        )
    return ReclaimResult(outcome)


class RejoinOutcome(enum.IntEnum):
    REJOINED = 1
    ALREADY = 2
    NOT_IN_QUEUE = -1
    CLOSED = -2
    TURN_NOT_COME = -3
    TURN_RUNNING = -4
    NO_SUCH_PLACE = -6
    RATE_LIMITED = -7
    UNPUBLISHED = -8
    NO_CONFIG = -9


@dataclass(frozen=True)
class RejoinResult:
    outcome: RejoinOutcome
    number: int = 0
    retry_after_ms: int = 0  # RATE_LIMITED: until the address's window ends


def rejoin_run(
    *,
    event_id: int,
    user_id: int,
    number: int | None,
    limit: JoinLimit,
    count: bool = True,
) -> RejoinResult:
    """Give up the fan's place whose turn is over (`number`, or the current
    place when None) for a new number at the back; see rejoin.lua. Counted
    against the address's join limit like a join (`count=False`: the retry of
    a call already counted)."""
    reply = _rejoin(
        keys=[
            waitingroom_key(event_id, "cfg"),
            waitingroom_key(event_id, "q"),
            place_bucket_key(event_id, user_id),
            waitingroom_key(event_id, "issued"),
            join_limit_key(event_id, limit.ip),
            waitingroom_key(event_id, "unclaimed"),
            waitingroom_key(event_id, "active"),
            waitingroom_key(event_id, "sess"),
            waitingroom_key(event_id, "lapsed"),
        ],
        args=[
            user_id,
            script_now_arg(),
            limit.per_window if count else "",
            limit.window_seconds * 1000,
            _grace_ms(),
            "" if number is None else number,
        ],
    )
    outcome = RejoinOutcome(int(reply[0]))
    if outcome in (RejoinOutcome.REJOINED, RejoinOutcome.ALREADY):
        return RejoinResult(outcome, number=int(reply[1]))
    if outcome == RejoinOutcome.RATE_LIMITED:
        return RejoinResult(outcome, retry_after_ms=int(reply[1]))
    return RejoinResult(outcome)


def session_record_get(*, event_id: int, user_id: int) -> SessionRecord | None:
    """The fan's latest session record, as the scripts keep it."""
    raw = redis_client().hget(waitingroom_key(event_id, "sess"), str(user_id))
    return SessionRecord.parse(_text(raw))


def session_end_ms(*, event_id: int, session_id: str) -> int | None:
    """The session's end (ms) while it has not ended or been purged; one ZSCORE."""
    score = redis_client().zscore(waitingroom_key(event_id, "active"), session_id)
    return None if score is None else int(score)


# --- configuration ----------------------------------------------------------


def config_put_run(
    *, event_id: int, version: int, fields: dict[str, str | int], force: bool = False
) -> bool:
    """Write the live config unless a newer version is live (or `force`);
    True if written."""
    args: list[str | int] = [version, "1" if force else "0"]
    for name, value in fields.items():
        args += [name, value]
    written = _config_put(keys=[waitingroom_key(event_id, "cfg")], args=args)
    return bool(int(written))


def live_config_field(*, event_id: int, name: str) -> str | None:
    value = redis_client().hget(waitingroom_key(event_id, "cfg"), name)
    return None if value is None else str(value)


def live_config_fields(*, event_id: int) -> dict[str, str]:
    return dict(redis_client().hgetall(waitingroom_key(event_id, "cfg")))


def live_config_versions(*, event_ids: list[int]) -> dict[int, tuple[int, str] | None]:
    """(version, event status) of each event's live config; None where missing."""
    pipe = redis_client().pipeline(transaction=False)
    for event_id in event_ids:
        pipe.hmget(waitingroom_key(event_id, "cfg"), "ver", "ev")
    found: dict[int, tuple[int, str] | None] = {}
    for event_id, (version, status) in zip(event_ids, pipe.execute(), strict=True):
        found[event_id] = None if version is None else (int(version), _text(status))
    return found


def live_config_delete(*, event_id: int) -> None:
    redis_client().delete(waitingroom_key(event_id, "cfg"))


def rooms_add(*, event_id: int, client: redis.Redis | None = None) -> None:
    (client or redis_client()).sadd(rooms_key(), event_id)


def rooms_list() -> list[int]:
    return sorted(int(member) for member in redis_client().smembers(rooms_key()))


def rooms_remove(*, event_id: int) -> None:
    redis_client().srem(rooms_key(), event_id)
