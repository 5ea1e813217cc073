"""Whether an event has anything left to sell, as the waiting room asks it.

The seats belong to seat selection, an app above this one, so the waiting room
cannot read them itself: seat selection registers its answer here when it
starts (its AppConfig.ready), the way apps register gauges with the platform.
Without a registered answer nothing counts as sold out.

The answer is read just before a script runs, not inside it: seats are sold
in another app's keys and in MySQL. A seat sold in between only means the fan
finds fewer seats, as any admitted fan may; no place or slot depends on it.
"""

from __future__ import annotations

from collections.abc import Callable

_sold_out: Callable[[int], bool] | None = None


def sold_out_probe_register(probe: Callable[[int], bool]) -> None:
    """Register `probe(event_id) -> True when nothing is left to sell`."""
    global _sold_out
    _sold_out = probe


def event_sold_out(*, event_id: int) -> bool:
    """True when the registered probe says nothing is left to sell."""
    return _sold_out is not None and _sold_out(event_id)
