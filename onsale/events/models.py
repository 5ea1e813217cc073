"""The event catalog: the events fans buy tickets for."""

from __future__ import annotations

from functools import cache
from typing import ClassVar
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from onsale.usermgmt.models import Organization


@cache
def _known_time_zones() -> frozenset[str]:
    # Read once per process (it walks the zone files).
    return frozenset(available_timezones())


def time_zone_is_known(name: str) -> bool:
    """Whether `name` is an IANA time zone zoneinfo knows ("Europe/Paris",
    "UTC"). Membership, not ZoneInfo(name): a name such as "Europe" (a
    directory) or "tzdata.zi" (a data file) makes ZoneInfo raise an OSError or
    a ValueError of its own rather than say no."""
    return name in _known_time_zones()


def time_zone_validate(value: str) -> None:
    """The field's check, for model forms such as the admin's (the services
    raise their own domain error first)."""
    if not time_zone_is_known(value):
        raise ValidationError(
            "Enter an IANA time zone name such as Europe/London.",
            code="invalid_time_zone",
        )


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
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[time_zone_validate]
    )
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

    @property
    def zone(self) -> ZoneInfo:
        """The event's time zone, to show its times in. The services check
        every name they store; a row written around them (a bare UPDATE) gets
        the site's `TIME_ZONE` rather than an error on every page."""
        name = self.time_zone if time_zone_is_known(self.time_zone) else None
        return ZoneInfo(name or default_time_zone())
