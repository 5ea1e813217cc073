"""Writes and rules of the event catalog: creating and changing events."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from onsale.events.exceptions import (
    EventCurrencyLocked,
    EventInvalid,
    EventScheduleInvalid,
    EventStatusChangeInvalid,
)
from onsale.events.models import Event, default_time_zone, time_zone_is_known
from onsale.platform import db
from onsale.usermgmt.audit import audit_changed, audit_record
from onsale.usermgmt.models import Organization, User

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Which status an event may move to from each status.
_STATUS_MOVES: dict[str, set[str]] = {
    Event.Status.DRAFT: {Event.Status.PUBLISHED, Event.Status.CANCELLED},
    Event.Status.PUBLISHED: {Event.Status.CANCELLED},
    Event.Status.CANCELLED: set(),
}


def _time_zone_check(time_zone: str) -> None:
    """An IANA time zone name that zoneinfo knows ("Europe/Paris", "UTC")."""
    if not time_zone_is_known(time_zone):
        raise EventInvalid(
            "The time zone must be an IANA time zone name such as Europe/London.",
            code="event_time_zone_invalid",
            extra={"field": "time_zone"},
        )


def _event_check(
    *, starts_at: datetime, onsale_at: datetime, currency: str, time_zone: str
) -> None:
    if onsale_at > starts_at:
        raise EventScheduleInvalid(
            extra={"field": "onsale_at", "onsale_at": onsale_at.isoformat()}
        )
    if not _CURRENCY.match(currency):
        raise EventInvalid(
            "The currency must be an ISO 4217 code of three capital letters.",
            code="event_currency_invalid",
            extra={"field": "currency"},
        )
    _time_zone_check(time_zone)


def event_create(
    *,
    organization: Organization,
    name: str,
    venue_name: str,
    starts_at: datetime,
    onsale_at: datetime,
    currency: str = "EUR",
    time_zone: str | None = None,
    status: str = Event.Status.DRAFT,
    actor: User | None = None,
) -> Event:
    """Create an event of `organization`.

    The on-sale must start no later than the event (`EventScheduleInvalid`);
    the currency is an ISO 4217 code (three capital letters); the time zone is
    an IANA name zoneinfo knows (None: the site's `TIME_ZONE`). A new event is a
    draft or published, never born cancelled. Names are trimmed and must not be
    empty. The creation is audited (`actor`: who; None for the system).
    """
    name, venue_name = name.strip(), venue_name.strip()
    if not name or not venue_name:
        raise EventInvalid(
            "The event needs a name and a venue name.",
            extra={"field": "name" if not name else "venue_name"},
        )
    if time_zone is None:
        time_zone = default_time_zone()
    _event_check(
        starts_at=starts_at,
        onsale_at=onsale_at,
        currency=currency,
        time_zone=time_zone,
    )
    if status not in (Event.Status.DRAFT, Event.Status.PUBLISHED):
        raise EventStatusChangeInvalid(extra={"status": status})
    with transaction.atomic():
        event = Event.objects.create(
            organization=organization,
            name=name,
            venue_name=venue_name,
            starts_at=starts_at,
            onsale_at=onsale_at,
            currency=currency,
            time_zone=time_zone,
            status=status,
        )
        audit_record(
            actor=actor,
            organization=organization,
            event_id=event.pk,
            action="event.create",
            before={},
            after=_event_audit_fields(event),
        )
    return event


def _event_audit_fields(event: Event) -> dict[str, Any]:
    return {
        "name": event.name,
        "venue_name": event.venue_name,
        "starts_at": event.starts_at,
        "onsale_at": event.onsale_at,
        "currency": event.currency,
        "time_zone": event.time_zone,
        "status": event.status,
    }


def event_update(
    *,
    event: Event,
    name: str | None = None,
    venue_name: str | None = None,
    starts_at: datetime | None = None,
    onsale_at: datetime | None = None,
    currency: str | None = None,
    time_zone: str | None = None,
    status: str | None = None,
    actor: User | None = None,
) -> Event:
    """Change some fields of an event (None = leave as is).

    The rules of `event_create` apply to the result. Status moves only forward:
    draft -> published -> cancelled (or draft -> cancelled). The currency is
    fixed once the event has a seat map, whose prices are in it. The row is
    locked while it changes, so two edits cannot interleave. The change is
    audited (`event.publish`, `event.cancel` or `event.update`, changed fields
    only) in the same transaction.
    """
    with transaction.atomic():
        locked = db.locked(Event.objects.all()).get(pk=event.pk)
        old_fields = _event_audit_fields(locked)
        new_name = locked.name if name is None else name.strip()
        new_venue = locked.venue_name if venue_name is None else venue_name.strip()
        if not new_name or not new_venue:
            raise EventInvalid(
                "The event needs a name and a venue name.",
                extra={"field": "name" if not new_name else "venue_name"},
            )
        new_starts = locked.starts_at if starts_at is None else starts_at
        new_onsale = locked.onsale_at if onsale_at is None else onsale_at
        new_currency = locked.currency if currency is None else currency
        new_time_zone = locked.time_zone if time_zone is None else time_zone
        _event_check(
            starts_at=new_starts,
            onsale_at=new_onsale,
            currency=new_currency,
            time_zone=new_time_zone,
        )
        if (
            new_currency != locked.currency
            # The seat map's reverse relation (seatselection sits above
            # events, so the ORM joins it and this module imports nothing).
            and Event.objects.filter(pk=locked.pk, seatmap__isnull=False).exists()
        ):
            raise EventCurrencyLocked(extra={"field": "currency"})
        if status is not None and status != locked.status:
            if status not in _STATUS_MOVES.get(locked.status, set()):
                raise EventStatusChangeInvalid(
                    extra={"from": locked.status, "to": status}
                )
            locked.status = status
        locked.name, locked.venue_name = new_name, new_venue
        locked.starts_at, locked.onsale_at = new_starts, new_onsale
        locked.currency, locked.time_zone = new_currency, new_time_zone
        locked.save()
        before, after = audit_changed(old_fields, _event_audit_fields(locked))
        audit_record(
            actor=actor,
            organization=locked.organization_id,
            event_id=locked.pk,
            action={
                Event.Status.PUBLISHED: "event.publish",
                Event.Status.CANCELLED: "event.cancel",
            }.get(after.get("status", ""), "event.update"),
            before=before,
            after=after,
        )
    return locked


def events_on_sale_ids() -> list[int]:
    """Published events whose on-sale has started and that have not begun."""
    now = timezone.now()
    return list(
        Event.objects.filter(
            status=Event.Status.PUBLISHED,
            onsale_at__lte=now,
            starts_at__gt=now,
            seatmap__isnull=False,
        ).values_list("pk", flat=True)
    )
