"""Celery wrappers: periodic upkeep of the seat state of events on sale."""

from __future__ import annotations

import logging

from celery import shared_task

from onsale.events import services as event_services
from onsale.seatselection import seat_state, services

logger = logging.getLogger(__name__)


@shared_task(name="onsale.seatselection.holds_expire_sweep", acks_late=True)
def holds_expire_sweep() -> int:
    """Release expired holds of every event on sale (busy events do this on
    every request; this covers quiet ones, so their seats show free promptly).
    Idempotent: an expired hold is released once."""
    purged = 0
    for event_id in event_services.events_on_sale_ids():
        purged += services.holds_expire(event_id=event_id)
    return purged


@shared_task(name="onsale.seatselection.seats_sold_reconcile", acks_late=True)
def seats_sold_reconcile() -> int:
    """Copy MySQL's sold and blocked seats into Redis for every event on sale
    (heals a sale or block whose after-commit Redis update failed).
    Idempotent."""
    events = event_services.events_on_sale_ids()
    for event_id in events:
        seat_state.seat_state_reconcile(event_id=event_id)
    return len(events)
