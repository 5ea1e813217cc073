"""The one builder of seat selection's Redis keys.

Every key of one event carries the hash tag `{ev:<id>}`, so all of them sit in
one Redis Cluster slot and one script may touch them all. The scripts take the
same fixed list of keys (`seat_state_keys`), in this order:

    gen       string: "<layout version>:<layout token>:<build token>"; missing,
              or of another layout: rebuild from MySQL
    seq       string: hold id sequence (INCR): the fencing token
    sold      bitmap: bit i set = seat index i is sold
    held      bitmap: bit i set = seat index i is held
    blocked   bitmap: bit i set = seat index i is blocked by the organizer
    blockver  string: SeatMap.blocked_version the blocked bitmap came from
    exp       zset:   hold id -> expiry (ms since the epoch)
    holds     hash:   hold id -> JSON {u: user, s: session, seats: [...], ga: {...}, e: expiry}
    sessions  hash:   session id -> its active hold id
    fans      hash:   user id -> seats and places held across all their holds
    ga        hash:   cap:<code>, sold:<code>, held:<code> per general-admission category
    version   string: availability version, raised with every change (snapshots, events)
    tmp       string: scratch space for BITOP inside a script

Outside that list: `layout` (the current layout id, a few seconds' note of
MySQL's, see selectors.seatmap_layout_id) and the pub/sub channel `changes`.
"""

from __future__ import annotations

import functools

from django.conf import settings

from onsale.platform.redis import redis_key

STATE_KEY_NAMES = (
    "gen",
    "seq",
    "sold",
    "held",
    "blocked",
    "blockver",
    "exp",
    "holds",
    "sessions",
    "fans",
    "ga",
    "version",
    "tmp",
)


def event_tag(event_id: int) -> str:
    return f"{{ev:{event_id}}}"


def seat_key(event_id: int, name: str) -> str:
    """`<prefix>ss:{ev:<id>}:<name>`."""
    return redis_key("ss", event_tag(event_id), name)


@functools.lru_cache(maxsize=4096)
def _state_keys(prefix: str, event_id: int) -> tuple[str, ...]:
    return tuple(seat_key(event_id, name) for name in STATE_KEY_NAMES)


def seat_state_keys(event_id: int) -> list[str]:
    """Every key of the event's seat state, in the order the scripts expect.
    Memoised per key prefix: every hold needs all thirteen."""
    return list(_state_keys(settings.REDIS_KEY_PREFIX, event_id))


def seat_changes_channel(event_id: int) -> str:
    """The pub/sub channel the scripts publish availability changes on."""
    return seat_key(event_id, "changes")
