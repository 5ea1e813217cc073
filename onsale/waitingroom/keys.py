"""The one builder of the waiting room's Redis keys.

Every key of one event carries the hash tag `{ev:<id>}`, so all of them sit in
one Redis Cluster slot and a script may touch any of them.
"""

from __future__ import annotations

from onsale.platform.redis import redis_key

# Queue places live in this many small hashes per event (user id modulo this),
# not one big hash: a hash of up to 512 small entries is stored as a listpack,
# about 10 bytes per fan instead of ~75 in a hash table. 1,024 buckets keep
# the listpack encoding up to ~500,000 fans per event; beyond that buckets turn
# into hash tables, which still works, only with more bytes per fan. Changing
# this number while an event has fans would lose their places.
PLACE_BUCKETS = 1024


def event_tag(event_id: int) -> str:
    return f"{{ev:{event_id}}}"


def waitingroom_key(event_id: int, name: str) -> str:
    """`<prefix>wr:{ev:<id>}:<name>` for the per-event keys:

    cfg        hash: the live configuration
    q          hash: counters, token bucket, draw seed, rate history
    unclaimed  zset: admitted numbers not yet claimed -> claim deadline (ms)
    lapsed     zset: numbers whose claim window ended unclaimed -> the end of
               their grace period (ms), while they can be taken back
    active     zset: session id -> session end (ms)
    sess       hash: user id -> "session id|issued ms|end ms|a or d"
    sid        hash: session id -> user id
    issued     zset: first number handed out in a second -> that second
    """
    return redis_key("wr", event_tag(event_id), name)


def join_limit_key(event_id: int, ip: str) -> str:
    """Counter of one client address's joins to this event in the current
    window (join.lua counts and expires it)."""
    return redis_key("wr", event_tag(event_id), "rl", ip)


def place_bucket_key(event_id: int, user_id: int) -> str:
    """The hash holding `user_id`'s place (value 0 while in the undrawn pre-queue)."""
    return redis_key("wr", event_tag(event_id), "p", user_id % PLACE_BUCKETS)


def place_bucket_keys(event_id: int) -> list[str]:
    return [
        redis_key("wr", event_tag(event_id), "p", bucket)
        for bucket in range(PLACE_BUCKETS)
    ]


def rooms_key() -> str:
    """Set of event ids whose rooms the beat task keeps moving (not event-scoped)."""
    return redis_key("wr", "rooms")
