"""Rate limits counted in Redis, so every pod shares them and restarts keep them.

Each check is one atomic script call (count and decide together); there is no
read-then-write window for parallel requests to slip through.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from onsale.platform.redis import lua_script, redis_client, redis_key

_ratelimit = lua_script(__file__, "ratelimit", preludes=["_fixed_window"])
_ratelimit_refund = lua_script(__file__, "ratelimit_refund")


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    hits: int
    retry_after_seconds: int


def ratelimit_hit(
    *, scope: str, identity: str, limit: int, window_seconds: int
) -> RateLimitResult:
    """Count one hit for `identity` in `scope` and say whether it is within `limit`."""
    key = redis_key("rl", scope, identity)
    allowed, hits, ttl_ms = _ratelimit(keys=[key], args=[limit, window_seconds * 1000])
    return RateLimitResult(
        allowed=bool(allowed),
        hits=int(hits),
        retry_after_seconds=max(1, math.ceil(int(ttl_ms) / 1000)),
    )


def ratelimit_refund(*, scope: str, identity: str) -> None:
    """Give back one hit counted by `ratelimit_hit` (a request that turned out
    not to count). The window keeps its end; an ended window stays ended."""
    _ratelimit_refund(keys=[redis_key("rl", scope, identity)], args=[])


def ratelimit_reset(*, scope: str, identity: str) -> None:
    """Forget every hit of `identity` in `scope` (a fresh window next time)."""
    redis_client().delete(redis_key("rl", scope, identity))
