"""Typed wrappers of the seat-state Lua scripts: the only code that knows their
KEYS and ARGV. Each returns a small result object; the services turn failure
codes into domain errors.

Every script starts with `lua/_prelude.lua` (shared helpers: purging expired
holds, publishing changes), so the purge logic exists once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from onsale.platform.redis import LuaScript, lua_script, redis_client
from onsale.seatselection.keys import seat_changes_channel, seat_state_keys

_hold = lua_script(__file__, "hold", preludes=["_prelude"])
_release = lua_script(__file__, "release", preludes=["_prelude"])
_read = lua_script(__file__, "read", preludes=["_prelude"])
_sold = lua_script(__file__, "sold", preludes=["_prelude"])
_snapshot = lua_script(__file__, "snapshot", preludes=["_prelude"])
_expire = lua_script(__file__, "expire", preludes=["_prelude"])
_build = lua_script(__file__, "build", preludes=["_prelude"])
_block = lua_script(__file__, "block", preludes=["_prelude"])
_restore = lua_script(__file__, "restore", preludes=["_prelude"])

# Return codes shared with the scripts.
OK = 0
NEEDS_REBUILD = 1


def _run(
    script: LuaScript,
    event_id: int,
    args: Sequence[Any],
    *,
    binary: bool = False,
) -> list[Any]:
    result = script(
        keys=seat_state_keys(event_id),
        args=[seat_changes_channel(event_id), *args],
        client=redis_client(decode=not binary),
    )
    return list(result)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class HoldScriptResult:
    """Outcome of hold.lua. `status`: ok, rebuild, taken, ga_short,
    fan_limit, session_ended."""

    status: str
    hold_id: int = 0
    expires_ms: int = 0
    version: int = 0
    replaced_hold_id: int | None = None
    taken: tuple[int, ...] = ()
    ga_code: str = ""
    available: int = 0
    held_elsewhere: int = 0
    limit: int = 0


_HOLD_STATUS = {
    0: "ok",
    1: "rebuild",
    2: "taken",
    3: "ga_short",
    4: "fan_limit",
    5: "session_ended",
}


def hold_script(
    *,
    event_id: int,
    layout_id: str,
    user_id: int,
    session_id: str,
    session_end_ms: int,
    ttl_ms: int,
    max_seats_per_fan: int,
    seat_indexes: Sequence[int],
    general_admission: Sequence[tuple[str, int]],
) -> HoldScriptResult:
    args: list[Any] = [
        layout_id,
        user_id,
        session_id,
        session_end_ms,
        ttl_ms,
        max_seats_per_fan,
        len(seat_indexes),
        *seat_indexes,
        len(general_admission),
    ]
    for code, quantity in general_admission:
        args += [code, quantity]
    reply = _run(_hold, event_id, args)
    status = _HOLD_STATUS[int(reply[0])]
    if status == "ok":
        return HoldScriptResult(
            status=status,
            hold_id=int(reply[1]),
            expires_ms=int(reply[2]),
            version=int(reply[3]),
            replaced_hold_id=int(reply[4]) if reply[4] else None,
        )
    if status == "taken":
        return HoldScriptResult(status=status, taken=tuple(int(i) for i in reply[1:]))
    if status == "ga_short":
        return HoldScriptResult(
            status=status, ga_code=_text(reply[1]), available=int(reply[2])
        )
    if status == "fan_limit":
        return HoldScriptResult(
            status=status, held_elsewhere=int(reply[1]), limit=int(reply[2])
        )
    return HoldScriptResult(status=status)


def release_script(*, event_id: int, user_id: int, hold_id: int) -> bool:
    """True if the user's hold was released; False if there was no such hold."""
    reply = _run(_release, event_id, [user_id, hold_id])
    return int(reply[0]) == OK


@dataclass(frozen=True)
class StoredHold:
    """A hold as stored in Redis."""

    hold_id: int
    event_id: int
    layout_id: str
    user_id: int
    session_id: str
    seat_indexes: tuple[int, ...]
    general_admission: dict[str, int]
    expires_ms: int


def read_script(
    *,
    event_id: int,
    user_id: int,
    hold_id: int | None = None,
    session_id: str = "",
    extend_ms: int = 0,
) -> StoredHold | None:
    """The user's active hold (by id, or else by session), optionally extended
    to at least now + `extend_ms`; None if there is no such active hold."""
    reply = _run(
        _read,
        event_id,
        [user_id, "" if hold_id is None else hold_id, session_id, extend_ms],
    )
    if int(reply[0]) != OK:
        return None
    stored = json.loads(reply[2])
    # cjson writes an empty Lua table as {} whether it was a list or a map.
    seats = stored["seats"] if isinstance(stored["seats"], list) else []
    return StoredHold(
        hold_id=int(reply[1]),
        event_id=event_id,
        layout_id=str(stored.get("l", "")),
        user_id=int(stored["u"]),
        session_id=str(stored["s"]),
        seat_indexes=tuple(int(index) for index in seats),
        general_admission={str(k): int(v) for k, v in dict(stored["ga"]).items()},
        expires_ms=int(reply[3]),
    )


def restore_script(*, event_id: int, user_id: int, hold_id: int) -> int | None:
    """Put an extended hold back to its own expiry; returns that expiry (epoch
    ms), or None if the user has no such active hold (any more)."""
    reply = _run(_restore, event_id, [user_id, hold_id])
    if int(reply[0]) != OK:
        return None
    return int(reply[1])


def sold_script(
    *,
    event_id: int,
    hold_id: int | None,
    seat_indexes: Sequence[int],
    general_admission_totals: Sequence[tuple[str, int]],
) -> int:
    """Mark seats sold (and GA totals) and retire the hold (if `hold_id`);
    returns the version."""
    args: list[Any] = [
        "" if hold_id is None else hold_id,
        len(seat_indexes),
        *seat_indexes,
        len(general_admission_totals),
    ]
    for code, total in general_admission_totals:
        args += [code, total]
    reply = _run(_sold, event_id, args)
    return int(reply[1])


@dataclass(frozen=True)
class SnapshotResult:
    """Raw availability: bitmaps as stored (MSB first; may be shorter than the
    seat count, missing bits are 0) and GA places left per category."""

    version: int
    generation: str
    sold: bytes
    held: bytes
    blocked: bytes
    general_admission: dict[str, int] = field(default_factory=dict)


def snapshot_script(*, event_id: int, layout_id: str) -> SnapshotResult | None:
    """None when the state must be (re)built first: missing, or built for
    another layout."""
    reply = _run(_snapshot, event_id, [layout_id], binary=True)
    if int(reply[0]) == NEEDS_REBUILD:
        return None
    ga_flat = [_text(value) for value in reply[6]]
    return SnapshotResult(
        version=int(reply[1]),
        generation=_text(reply[2]),
        sold=bytes(reply[3]),
        held=bytes(reply[4]),
        blocked=bytes(reply[5]),
        general_admission={
            ga_flat[i]: int(ga_flat[i + 1]) for i in range(0, len(ga_flat), 2)
        },
    )


def expire_script(*, event_id: int) -> int:
    """Purge expired holds; returns how many were purged."""
    reply = _run(_expire, event_id, [])
    return int(reply[1])


def build_script(
    *,
    event_id: int,
    layout_version: int,
    layout_token: str,
    token: str,
    blocked_version: int,
    blocked: bytes,
    sold: bytes,
    general_admission: Sequence[tuple[str, int, int]],
) -> bool:
    """True if this call built the state; False if it was already built for
    this layout version (or a newer one)."""
    args: list[Any] = [
        layout_version,
        layout_token,
        token,
        blocked_version,
        blocked,
        sold,
        len(general_admission),
    ]
    for code, capacity, sold_count in general_admission:
        args += [code, capacity, sold_count]
    reply = _run(_build, event_id, args)
    return int(reply[0]) == 1


def block_script(*, event_id: int, blocked_version: int, blocked: bytes) -> bool:
    """True if applied; False if a newer blocked set is already stored."""
    reply = _run(_block, event_id, [blocked_version, blocked])
    return int(reply[0]) == OK


_unsold = lua_script(__file__, "unsold", preludes=["_prelude"])


def unsold_script(
    *,
    event_id: int,
    seat_indexes: Sequence[int],
    general_admission_totals: Sequence[tuple[str, int]],
) -> int:
    """Clear seats' sold bits (publishing them as freed) and set GA sold
    counts to MySQL's totals; returns the version. Added for checkout."""
    args: list[Any] = [len(seat_indexes), *seat_indexes, len(general_admission_totals)]
    for code, total in general_admission_totals:
        args += [code, total]
    reply = _run(_unsold, event_id, args)
    return int(reply[1])
