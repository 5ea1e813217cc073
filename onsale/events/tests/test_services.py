"""Creating and changing events, and which events are on sale right now."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.events import services
from onsale.events.exceptions import (
    EventCurrencyLocked,
    EventInvalid,
    EventScheduleInvalid,
    EventStatusChangeInvalid,
)
from onsale.events.models import Event
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import SMALL_MAP
from onsale.usermgmt.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_event_create_makes_an_audited_draft(organizer):
    onsale = timezone.now() + timedelta(days=1)

    event = services.event_create(
        organization=organizer.organization,
        name="  Big Concert ",
        venue_name="Stadium",
        starts_at=onsale + timedelta(days=30),
        onsale_at=onsale,
        actor=organizer,
    )

    assert (event.name, event.status, event.currency) == ("Big Concert", "draft", "EUR")
    entry = AuditEntry.objects.get(event_id=event.pk)
    assert entry.action == "event.create"


def test_event_create_refuses_an_onsale_after_the_start(organizer):
    starts = timezone.now() + timedelta(days=1)

    with pytest.raises(EventScheduleInvalid):
        services.event_create(
            organization=organizer.organization,
            name="Late",
            venue_name="Stadium",
            starts_at=starts,
            onsale_at=starts + timedelta(seconds=1),
        )
    with pytest.raises(EventInvalid):
        services.event_create(
            organization=organizer.organization,
            name=" ",
            venue_name="Stadium",
            starts_at=starts,
            onsale_at=starts,
        )
    assert Event.objects.count() == 0


def test_event_update_moves_status_forward_only(event, organizer):
    services.event_update(event=event, status=Event.Status.CANCELLED, actor=organizer)

    with pytest.raises(EventStatusChangeInvalid):
        services.event_update(event=event, status=Event.Status.PUBLISHED)
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert AuditEntry.objects.filter(event_id=event.pk, action="event.cancel").exists()


def test_event_update_keeps_the_currency_once_there_is_a_seat_map(event):
    seatmap_replace(event=event, data=SMALL_MAP)

    with pytest.raises(EventCurrencyLocked):
        services.event_update(event=event, currency="USD")
    assert services.event_update(event=event, name="Renamed").name == "Renamed"


def test_events_on_sale_ids_lists_started_published_events_with_a_seat_map():
    now = timezone.now()
    on_sale, not_yet, draft = EventFactory(), EventFactory(), EventFactory()
    for event in (on_sale, not_yet, draft):
        seatmap_replace(event=event, data=SMALL_MAP)
    no_map = EventFactory(onsale_at=now - timedelta(minutes=1))
    # The on-sale opens after the seat maps are placed (placing one is refused
    # once it has started).
    Event.objects.filter(pk__in=[on_sale.pk, draft.pk]).update(
        onsale_at=now - timedelta(minutes=1)
    )
    Event.objects.filter(pk=draft.pk).update(status=Event.Status.DRAFT)

    ids = services.events_on_sale_ids()

    assert ids == [on_sale.pk]
    assert no_map.pk not in ids
    assert not_yet.pk not in ids


def test_event_create_takes_the_site_time_zone_unless_given_one(organizer, settings):
    settings.TIME_ZONE = "UTC"
    onsale = timezone.now() + timedelta(days=1)
    facts = {
        "organization": organizer.organization,
        "venue_name": "Stadium",
        "starts_at": onsale + timedelta(days=30),
        "onsale_at": onsale,
    }

    plain = services.event_create(name="Plain", **facts)
    local = services.event_create(name="Local", time_zone="America/New_York", **facts)

    plain.refresh_from_db()
    local.refresh_from_db()
    assert plain.time_zone == "UTC"
    assert local.time_zone == "America/New_York"


@pytest.mark.parametrize(
    "time_zone",
    ["Mars/Olympus_Mons", "", "../etc/passwd", "/etc/localtime", "Europe", "tzdata.zi"],
)
def test_event_create_refuses_an_unknown_time_zone(organizer, time_zone):
    onsale = timezone.now() + timedelta(days=1)

    with pytest.raises(EventInvalid) as raised:
        services.event_create(
            organization=organizer.organization,
            name="Nowhere",
            venue_name="Stadium",
            starts_at=onsale + timedelta(days=30),
            onsale_at=onsale,
            time_zone=time_zone,
        )

    assert raised.value.code == "event_time_zone_invalid"
    assert raised.value.extra == {"field": "time_zone"}
    assert Event.objects.count() == 0


def test_event_update_changes_the_time_zone_and_audits_it(event, organizer):
    event = services.event_update(
        event=event, time_zone="Australia/Sydney", actor=organizer
    )

    event.refresh_from_db()
    assert event.time_zone == "Australia/Sydney"
    entry = AuditEntry.objects.get(event_id=event.pk, action="event.update")
    assert entry.after == {"time_zone": "Australia/Sydney"}

    with pytest.raises(EventInvalid):
        services.event_update(event=event, time_zone="Europe/Atlantis")
    event.refresh_from_db()
    assert event.time_zone == "Australia/Sydney"
