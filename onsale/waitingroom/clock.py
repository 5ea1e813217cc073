"""The clock the waiting room's scripts and token checks use.

Production always uses the Redis server's clock inside scripts (`TIME`), so all
pods agree, and the local clock only where no script runs (token expiry). Tests
may pin the clock, which is honoured only while the test-only setting
`WAITINGROOM_CLOCK_INJECTION` is on; the setting is not read from the
environment, so no deployment can switch it on.
"""

from __future__ import annotations

import time

from django.conf import settings

_injected_ms: int | None = None


def clock_inject(now_ms: int | None) -> None:
    """Pin the clock to `now_ms` (None: back to the real clock). Tests only."""
    global _injected_ms
    _injected_ms = now_ms


def clock_advance(*, seconds: float) -> None:
    """Move a pinned clock forward. Tests only."""
    global _injected_ms
    if _injected_ms is None:
        raise RuntimeError("the clock is not pinned")
    _injected_ms += int(seconds * 1000)


def injected_ms() -> int | None:
    if _injected_ms is not None and getattr(
        settings, "WAITINGROOM_CLOCK_INJECTION", False
    ):
        return _injected_ms
    return None


def script_now_arg() -> str:
    """The ARGV the scripts read as "now": empty means use Redis TIME."""
    pinned = injected_ms()
    return "" if pinned is None else str(pinned)


def local_now_seconds() -> float:
    pinned = injected_ms()
    return time.time() if pinned is None else pinned / 1000
