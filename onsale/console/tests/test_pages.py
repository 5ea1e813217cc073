"""The organizer console pages: who may open them and what they carry."""

from __future__ import annotations

import json
from html import unescape

import pytest
from django.test import Client

from onsale.console.pages import COMPACT_EXAMPLE, seatmap_text
from onsale.seatselection.seatmaps.export import seatmap_source_get
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.testutils.seats import FULL_MAP, hold, seat_ids, sell


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
    assert "The box holds an <strong>example</strong>" in html
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


def _seatmap_box(html: str) -> str:
    start = html.index('<textarea id="seatmap-text"')
    start = html.index(">", start) + 1
    return unescape(html[start : html.index("</textarea>", start)])


@pytest.mark.django_db
def test_editor_holds_the_events_own_map_not_the_example(organizer, event):
    # given an event whose map is FULL_MAP (5 seats), not the 320-seat example
    seatmap_replace(event=event, data=FULL_MAP)
    html = _client(organizer).get(f"/organizer/events/{event.pk}/").content.decode()
    # then the box holds that map, which loads back as the same map
    source = seatmap_source_get(event=event)
    assert source is not None
    assert json.loads(_seatmap_box(html)) == source.document
    assert "generate" not in _seatmap_box(html)
    assert "this event's current map: 5 seats" in html
    assert "Map (this event's current map)" in html
    assert 'data-current-seats="5"' in html
    assert ">Replace seat map</button>" in html
    assert "Map (example)" not in html
    assert "no seat map yet" not in html


@pytest.mark.django_db
def test_editor_without_a_map_shows_the_example_labelled_so(organizer, event):
    html = _client(organizer).get(f"/organizer/events/{event.pk}/").content.decode()
    assert json.loads(_seatmap_box(html)) == json.loads(COMPACT_EXAMPLE)
    assert "This event has no seat map yet." in html
    assert "Map (example)" in html
    assert 'data-current-seats=""' in html
    assert ">Upload seat map</button>" in html


@pytest.mark.django_db
def test_seatmap_text_is_json_of_the_full_form():
    document = {
        "categories": [{"code": "A", "name": 'Stalls "front"', "price": "5.00"}],
        "sections": [
            {
                "name": "Floor",
                "rows": [
                    {
                        "label": "A",
                        "rank": 0,
                        "seats": [{"label": "1", "x": 0, "y": 0, "category": "A"}],
                    },
                    {
                        "label": "B",
                        "rank": 3,
                        "seats": [
                            {"label": "1", "x": 0, "y": 1, "category": "A"},
                            {
                                "label": "2",
                                "x": 1.5,
                                "y": 1,
                                "category": "A",
                                "blocked": True,
                            },
                        ],
                    },
                ],
            },
            {
                "name": "Ÿ",
                "rows": [
                    {
                        "label": "A",
                        "rank": 0,
                        "seats": [{"label": "1", "x": 9, "y": 9, "category": "A"}],
                    }
                ],
            },
        ],
    }
    text = seatmap_text(document)
    assert json.loads(text) == document
    # one seat a line
    seat_lines = [
        line for line in text.splitlines() if '"label": "' in line and '"x"' in line
    ]
    assert len(seat_lines) == 4
    assert len(text.splitlines()) == 21
    only_categories = {"categories": document["categories"]}
    assert json.loads(seatmap_text(only_categories)) == only_categories


@pytest.mark.django_db
def test_editor_says_a_map_with_sales_cannot_be_replaced(organizer, seated_event):
    buyer = UserFactory()
    held = hold(seated_event.pk, buyer.pk, "s-1", seat_ids=seat_ids(seated_event)[:2])
    sell(seated_event.pk, held, buyer.pk)
    html = (
        _client(organizer).get(f"/organizer/events/{seated_event.pk}/").content.decode()
    )
    assert "The seat map can no longer be replaced: seats or places are sold." in html
    assert 'id="seatmap-upload" disabled' in html


@pytest.mark.django_db
def test_editor_counts_the_held_seats_a_replacement_drops(organizer, seated_event):
    fan = UserFactory()
    hold(seated_event.pk, fan.pk, "s-1", seat_ids=seat_ids(seated_event)[:3])
    html = (
        _client(organizer).get(f"/organizer/events/{seated_event.pk}/").content.decode()
    )
    assert "3 seats are held now; replacing the map drops those holds." in html
    assert 'data-seats-held="3"' in html
    assert 'id="seatmap-upload">' in html
    assert "can no longer be replaced" not in html


@pytest.mark.django_db
def test_navigation_links_the_console_for_organizers_and_staff_only(organizer):
    link = '<a href="/organizer/">Console</a>'
    staff = UserFactory(role="staff", is_staff=True)
    for user in (organizer, staff):
        html = _client(user).get("/").content.decode()
        assert link in html
        # and the link opens the console
        assert _client(user).get("/organizer/").status_code == 200
    for client in (_client(UserFactory()), Client()):
        response = client.get("/")
        assert response.status_code == 200
        assert link not in response.content.decode()
