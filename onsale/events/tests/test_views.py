"""The front page: the published events, searchable and paged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from onsale.events.models import Event
from onsale.events.views import EVENTS_PER_PAGE
from onsale.testutils.factories import EventFactory

pytestmark = pytest.mark.django_db

START = datetime(2031, 3, 1, 18, 0, tzinfo=UTC)


def _events(count: int, **facts) -> list[Event]:
    """`count` published events, a day apart from START, in that order."""
    return [
        EventFactory(
            starts_at=START + timedelta(days=n),
            onsale_at=START - timedelta(days=30),
            **facts,
        )
        for n in range(count)
    ]


def _listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/events/(\d+)/"', html)]


def test_the_front_page_lists_published_events_soonest_first_with_their_pages():
    later, sooner = _events(2)[::-1]
    EventFactory(status=Event.Status.DRAFT, name="Secret draft")
    EventFactory(status=Event.Status.CANCELLED, name="Called off")

    html = Client().get("/").content.decode()

    assert _listed(html) == [sooner.pk, later.pk]
    assert f'href="/events/{sooner.pk}/queue"' in html
    assert "Secret draft" not in html and "Called off" not in html
    assert 'role="search"' in html


def test_the_front_page_shows_each_event_in_its_own_time_zone():
    EventFactory(
        time_zone="Europe/Berlin",
        starts_at=datetime(2031, 7, 10, 18, 0, tzinfo=UTC),
        onsale_at=datetime(2031, 1, 10, 9, 0, tzinfo=UTC),
    )

    html = Client().get("/").content.decode()

    assert "Thu 10 Jul 2031, 20:00 CEST" in html
    assert "On sale from Fri 10 Jan 2031, 10:00 CET" in html


def test_search_matches_name_or_venue_in_any_case():
    by_name = EventFactory(name="Jazz Night", venue_name="Blue Room")
    by_venue = EventFactory(name="Brass Band", venue_name="Jazz Cellar")
    EventFactory(name="Rock Show", venue_name="Arena")
    EventFactory(name="Jazz Draft", status=Event.Status.DRAFT)

    html = Client().get("/", {"q": "  jAzZ "}).content.decode()

    assert sorted(_listed(html)) == sorted([by_name.pk, by_venue.pk])
    assert 'value="jAzZ"' in html
    assert "Events matching “jAzZ”" in html


def test_search_treats_like_wildcards_as_plain_characters():
    percent = EventFactory(name="100% Hits")
    EventFactory(name="Hits of 1999")

    html = Client().get("/", {"q": "%"}).content.decode()

    assert _listed(html) == [percent.pk]


def test_a_search_without_results_says_so_and_offers_every_event():
    EventFactory(name="Opera")

    response = Client().get("/", {"q": "<b>polka</b>"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="events-none"' in html
    assert "No events match “&lt;b&gt;polka&lt;/b&gt;”" in html
    assert _listed(html) == []
    assert '<a href="/">See all events</a>' in html


def test_an_empty_catalogue_says_nothing_is_on_sale():
    html = Client().get("/").content.decode()

    assert "No events are on sale at the moment." in html
    assert 'class="pages"' not in html


def test_the_list_is_paged_and_the_search_kept_across_pages():
    events = _events(EVENTS_PER_PAGE + 3, venue_name="Dome")
    _events(2, venue_name="Elsewhere")

    first = Client().get("/", {"q": "dome"}).content.decode()
    second = Client().get("/", {"q": "dome", "page": "2"}).content.decode()

    assert _listed(first) == [event.pk for event in events[:EVENTS_PER_PAGE]]
    assert _listed(second) == [event.pk for event in events[EVENTS_PER_PAGE:]]
    assert "Page 1 of 2" in first
    assert 'href="?q=dome&amp;page=2" rel="next"' in first
    assert 'href="?q=dome&amp;page=1" rel="prev"' in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize(
    ("page", "shown"), [("99", "last"), ("-1", "last"), ("two", "first")]
)
def test_a_page_out_of_range_or_not_a_number_lands_on_events(page, shown):
    events = _events(EVENTS_PER_PAGE + 1)

    response = Client().get("/", {"page": page})

    assert response.status_code == 200
    expected = events[EVENTS_PER_PAGE:] if shown == "last" else events[:EVENTS_PER_PAGE]
    assert _listed(response.content.decode()) == [event.pk for event in expected]


def test_the_front_page_reads_as_many_rows_for_twenty_events_as_for_two():
    _events(2)
    with CaptureQueriesContext(connection) as two:
        Client().get("/")
    _events(EVENTS_PER_PAGE)
    with CaptureQueriesContext(connection) as twenty:
        html = Client().get("/").content.decode()

    assert len(_listed(html)) == EVENTS_PER_PAGE
    # The count for the pages, and the page of events.
    assert len(twenty) == len(two) == 2


def test_the_front_page_in_german_shows_german_dates_and_words():
    EventFactory(
        name="Sommerkonzert",
        time_zone="Europe/Berlin",
        starts_at=datetime(2031, 7, 10, 18, 0, tzinfo=UTC),
        onsale_at=datetime(2031, 1, 10, 9, 0, tzinfo=UTC),
    )

    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Do, 10. Jul 2031, 20:00 CEST" in html
    assert "Im Verkauf ab Fr, 10. Jan 2031, 10:00 CET" in html
    assert 'aria-label="Warteraum von Sommerkonzert"' in html
    assert ">Warteraum</a>" in html
    assert "Legen Sie ein Konto an</a>, bevor der Verkauf beginnt" in html


def test_the_pages_and_an_empty_search_in_german():
    _events(EVENTS_PER_PAGE + 1, venue_name="Dom")

    paged = Client().get("/", {"q": "dom"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    none = Client().get("/", {"q": "polka"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Seite 1 von 2" in paged and ">Weiter</a>" in paged
    assert "Veranstaltungen zu „dom“" in paged
    assert "Keine Veranstaltung passt zu „polka“." in none
