"""Which events fans and organizers may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.events import selectors
from onsale.events.exceptions import EventNotFound
from onsale.events.models import Event
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_event_list_published_lists_published_events_soonest_first():
    later = EventFactory(onsale_at=timezone.now() + timedelta(days=5))
    sooner = EventFactory(onsale_at=timezone.now() + timedelta(days=1))
    EventFactory(status=Event.Status.DRAFT)

    assert list(selectors.event_list_published()) == [sooner, later]
    assert list(selectors.event_list_published(limit=1, offset=1)) == [later]


def test_event_get_published_hides_drafts_and_cancelled_events():
    published = EventFactory()
    draft = EventFactory(status=Event.Status.DRAFT)
    cancelled = EventFactory(status=Event.Status.CANCELLED)

    assert selectors.event_get_published(event_id=published.pk) == published
    for hidden in (draft.pk, cancelled.pk, 999_999):
        with pytest.raises(EventNotFound):
            selectors.event_get_published(event_id=hidden)


def test_event_get_for_organizer_shows_only_the_organizers_events(event, organizer):
    stranger = OrganizerFactory()
    staff = UserFactory(role="staff", is_staff=True)

    assert (
        selectors.event_get_for_organizer(event_id=event.pk, viewer=organizer) == event
    )
    assert selectors.event_get_for_organizer(event_id=event.pk, viewer=staff) == event
    with pytest.raises(EventNotFound):
        selectors.event_get_for_organizer(event_id=event.pk, viewer=stranger)
    with pytest.raises(EventNotFound):
        selectors.event_get_for_organizer(event_id=999_999, viewer=staff)


def test_event_list_for_organizer_lists_the_organizations_events(event, organizer):
    other = EventFactory()
    staff = UserFactory(role="staff", is_staff=True)
    fan = UserFactory()

    assert list(selectors.event_list_for_organizer(viewer=organizer)) == [event]
    assert set(selectors.event_list_for_organizer(viewer=staff)) == {event, other}
    assert list(selectors.event_list_for_organizer(viewer=fan)) == []


def test_event_search_published_matches_name_or_venue_of_published_events():
    soon = timezone.now() + timedelta(days=1)
    venue_match = EventFactory(
        name="Brass", venue_name="The Jazz Club", onsale_at=soon + timedelta(days=1)
    )
    name_match = EventFactory(name="JAZZ brunch", venue_name="Hall", onsale_at=soon)
    EventFactory(name="Rock", venue_name="Hall")
    EventFactory(name="Jazz draft", status=Event.Status.DRAFT)
    EventFactory(name="Jazz cancelled", status=Event.Status.CANCELLED)

    assert list(selectors.event_search_published(query=" jazz ")) == [
        name_match,
        venue_match,
    ]
    assert selectors.event_search_published(query="").count() == 3
    assert list(selectors.event_search_published(query="_")) == []
