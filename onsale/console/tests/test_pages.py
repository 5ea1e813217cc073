"""The organizer console pages: who may open them and what they carry."""

from __future__ import annotations

import pytest
from django.test import Client

from onsale.testutils.factories import EventFactory, UserFactory


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pages(event_id: int) -> list[str]:
    return [
        f"/organizer/events/{event_id}/",
        f"/organizer/events/{event_id}/live",
    ]


@pytest.mark.django_db
def test_console_pages_refuse_fans_and_other_organizations(organizer, event):
    fan = _client(UserFactory())
    assert fan.get("/organizer/").status_code == 403
    for url in _pages(event.pk):
        assert fan.get(url).status_code == 403
    other = EventFactory()
    mine = _client(organizer)
    for url in _pages(other.pk):
        assert mine.get(url).status_code == 404
    anonymous = Client().get("/organizer/")
    assert anonymous.status_code == 302
    assert "/login" in anonymous["Location"]


@pytest.mark.django_db
def test_console_pages_list_and_wire_the_organizers_event(organizer, event):
    client = _client(organizer)
    other = EventFactory(name="Somebody else's gig")
    listing = client.get("/organizer/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert event.name in html
    assert other.name not in html
    assert 'id="create-form"' in html
    assert "csrftoken" in listing.cookies
    editor = client.get(f"/organizer/events/{event.pk}/").content.decode()
    assert (
        f'data-seatmap-csv-url="/api/v1/organizer/events/{event.pk}/seatmap.csv"'
        in editor
    )
    room = client.get(f"/organizer/events/{event.pk}/live").content.decode()
    assert f'data-live-url="/api/v1/organizer/events/{event.pk}/live"' in room
    assert f'data-audit-url="/api/v1/organizer/events/{event.pk}/audit"' in room
    assert "console/console.js" in room


@pytest.mark.django_db
def test_console_forms_carry_the_event_time_zone(organizer, settings):
    settings.TIME_ZONE = "UTC"
    event = EventFactory(organization=organizer.organization, time_zone="Asia/Kolkata")
    client = _client(organizer)

    listing = client.get("/organizer/").content.decode()
    editor = client.get(f"/organizer/events/{event.pk}/").content.decode()

    assert 'name="time_zone" value="UTC"' in listing
    assert 'name="time_zone" value="Asia/Kolkata"' in editor
