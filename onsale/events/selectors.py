"""Reads of the event catalog: which events fans and organizers may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from onsale.events.exceptions import EventNotFound
from onsale.events.models import Event
from onsale.usermgmt.models import User


def event_list_published(*, limit: int = 50, offset: int = 0) -> QuerySet[Event]:
    """Published events, soonest first. Drafts and cancelled events are never
    listed."""
    return Event.objects.filter(status=Event.Status.PUBLISHED).order_by(
        "starts_at", "pk"
    )[offset : offset + limit]


def event_search_published(*, query: str = "") -> QuerySet[Event]:
    """Published events whose name or venue contains `query` (case-insensitive;
    surrounding spaces ignored, empty: every published event), soonest first.

    The rows come in the order of the (status, starts_at) index, so a page of
    results stops reading at its last row. A search inside names cannot use a
    B-tree index; it filters the published events the index walks through.
    """
    events = Event.objects.filter(status=Event.Status.PUBLISHED)
    query = query.strip()
    if query:
        events = events.filter(
            Q(name__icontains=query) | Q(venue_name__icontains=query)
        )
    return events.order_by("starts_at", "pk")


def event_get_published(*, event_id: int) -> Event:
    """A published event; anything else (draft, cancelled, missing) is
    `EventNotFound`, so unpublished events cannot be probed."""
    event = Event.objects.filter(pk=event_id, status=Event.Status.PUBLISHED).first()
    if event is None:
        raise EventNotFound()
    return event


def event_get_for_organizer(*, event_id: int, viewer: User) -> Event:
    """The event, if `viewer` runs it (an organizer of its organization) or is
    platform staff. Everyone else gets `EventNotFound`, exactly as for an id
    that does not exist."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise EventNotFound()
    if viewer.is_platform_staff or (
        viewer.is_organizer and viewer.organization_id == event.organization_id
    ):
        return event
    raise EventNotFound()


def event_list_for_organizer(*, viewer: User) -> QuerySet[Event]:
    """The events of the viewer's organization (every event for staff)."""
    events = Event.objects.order_by("starts_at", "pk")
    if viewer.is_platform_staff:
        return events
    if viewer.organization_id is None:
        return events.none()
    return events.filter(organization_id=viewer.organization_id)
