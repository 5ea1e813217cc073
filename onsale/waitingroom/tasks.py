"""Celery wrappers of the waiting room's periodic work."""

from __future__ import annotations

from celery import shared_task

from onsale.waitingroom import services


@shared_task(name="onsale.waitingroom.tick", acks_late=True, ignore_result=True)
def waitingroom_tick() -> int:
    """Evaluate every room (beat, every WAITINGROOM_TICK_SECONDS). Safe to run
    twice or in parallel: each evaluation is one atomic script."""
    return services.rooms_tick()
