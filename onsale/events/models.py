"""The event catalog: the events fans buy tickets for."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from onsale.usermgmt.models import Organization


def default_time_zone() -> str:
    """The time zone of a new event: the site's `TIME_ZONE` setting, read when
    the event is created (not frozen into a migration)."""
    return str(settings.TIME_ZONE)


class Event(models.Model):
    """Something people buy tickets for, run by one organization.

    Fans see only published events. `onsale_at` is when numbered admission
    starts (the waiting room keeps its own live copy of the schedule);
    `starts_at` is when the doors open. Prices are in `currency` (ISO 4217).
    Times are stored in UTC; `time_zone` is the IANA name of the zone the
    event takes place in (such as "Europe/London"), in which its pages show
    them.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="events"
    )
    name = models.CharField(max_length=200)
    venue_name = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    onsale_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="EUR")
    time_zone = models.CharField(max_length=64, default=default_time_zone)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table of the days when events lived in seatselection: moving the
        # model moved no data.
        db_table = "seatselection_event"
        indexes: ClassVar = [models.Index(fields=["status", "starts_at"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(onsale_at__lte=models.F("starts_at")),
                name="event_onsale_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_at:%Y-%m-%d})"
