"""The per-event waiting room configuration (the durable copy).

The live copy that the queue scripts read sits in Redis (see `admission.py`,
`waitingroom_live_config_push`); this row is what it is rebuilt from.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from onsale.events.models import Event


class WaitingRoomConfig(models.Model):
    """How one event's waiting room admits fans.

    `state` is the organizer's switch, combined with the clock into the
    effective state fans see:

    - `scheduled` (default): the schedule drives the room. Before
      `prequeue_opens_at` nobody may join; from then until `onsale_at` joiners
      land in the unordered pre-queue; from `onsale_at` the pre-queue is drawn
      once and numbers are first-come-first-served.
    - `prequeue`: the pre-queue is open now, whatever `prequeue_opens_at` says;
      the draw still happens at `onsale_at`.
    - `open`: numbered admission starts now, whatever `onsale_at` says (the
      pre-queue, if any, is drawn at once).
    - `paused`: fans may still join; nobody is admitted.
    - `closed`: nobody may join and nobody is admitted; sessions already
      admitted run to their end.

    `rate_per_minute` new admissions per minute with `burst` at once (a token
    bucket), never more than `max_active` admitted-and-unfinished sessions at a
    time. An admitted fan has `claim_seconds` to show up, then `session_seconds`
    to shop. `version` grows with every change, so a stale write can never
    overwrite a newer one in the live copy.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        PREQUEUE = "prequeue", "Pre-queue"
        OPEN = "open", "Open"
        PAUSED = "paused", "Paused"
        CLOSED = "closed", "Closed"

    event = models.OneToOneField(
        Event, on_delete=models.CASCADE, related_name="waiting_room"
    )
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.SCHEDULED
    )
    prequeue_opens_at = models.DateTimeField()
    onsale_at = models.DateTimeField()
    rate_per_minute = models.PositiveIntegerField()
    burst = models.PositiveIntegerField()
    max_active = models.PositiveIntegerField()
    session_seconds = models.PositiveIntegerField()
    claim_seconds = models.PositiveIntegerField()
    max_seats_per_fan = models.PositiveSmallIntegerField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(prequeue_opens_at__lte=models.F("onsale_at")),
                name="waitingroom_prequeue_before_onsale",
            ),
            models.CheckConstraint(
                condition=models.Q(burst__gte=1)
                & models.Q(max_active__gte=1)
                & models.Q(session_seconds__gte=1)
                & models.Q(claim_seconds__gte=1)
                & models.Q(max_seats_per_fan__gte=1),
                name="waitingroom_positive_limits",
            ),
        ]

    def __str__(self) -> str:
        return f"waiting room of event {self.event_id} ({self.state})"
