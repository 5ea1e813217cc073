"""The front page and an event page in a real browser: the fan's own time
zone filled in by the page's script, the way into the queue, and both pages
fitting a 360 px phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from onsale.events.views import EVENTS_PER_PAGE
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from tests.e2e.conftest import SMALL_MAP

pytestmark = pytest.mark.django_db(transaction=True)

# 18:30 UTC: 20:30 in Paris (the venue), 14:30 in New York (the fan).
STARTS = datetime(2030, 7, 4, 18, 30, tzinfo=UTC)


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _in_zone(fan, zone: str) -> None:
    fan.cdp.send("Emulation.setTimezoneOverride", {"timezoneId": zone})
    fan.cdp.send("Emulation.setLocaleOverride", {"locale": "en-US"})


def test_a_fan_abroad_sees_the_venue_time_and_their_own(stack, fans):
    event = EventFactory(
        name="Fête de la Musique, the long-named midsummer edition",
        venue_name="Parc de la Villette, Grande Halle",
        time_zone="Europe/Paris",
        starts_at=STARTS,
        onsale_at=STARTS - timedelta(days=30),
    )
    seatmap_replace(event=event, data=SMALL_MAP)
    fan = fans(stack.url, "phone", "event-page")
    _in_zone(fan, "America/New_York")
    page = fan.page

    page.goto(f"/events/{event.pk}/")

    starts = page.locator("#event-starts")
    expect(starts.locator(".at-venue")).to_have_text("Thu 4 Jul 2030, 20:30 CEST")
    expect(starts.locator(".fan-time")).to_be_visible()
    expect(starts.locator("time")).to_contain_text("Jul 4, 2030")
    # \s: newer ICU puts a narrow no-break space before "PM".
    expect(starts.locator("time")).to_contain_text(re.compile(r"02:30\sPM EDT"))
    expect(page.locator("#event-prices")).to_contain_text("30.50 EUR")
    _fits_the_phone(page)
    fan.shot("event")

    page.click("#event-join")
    page.wait_for_url(f"{stack.url}/events/{event.pk}/queue")


def test_a_fan_in_the_venues_zone_sees_the_time_once(stack, fans):
    event = EventFactory(
        time_zone="Europe/Paris",
        starts_at=STARTS,
        onsale_at=STARTS - timedelta(days=30),
    )
    fan = fans(stack.url, "phone", "event-page-local")
    _in_zone(fan, "Europe/Paris")

    fan.page.goto(f"/events/{event.pk}/")

    expect(fan.page.locator("#event-starts .at-venue")).to_be_visible()
    expect(fan.page.locator("#event-starts .fan-time")).to_be_hidden()


def test_the_front_page_searches_and_pages_on_a_phone(stack, fans):
    for n in range(EVENTS_PER_PAGE + 2):
        EventFactory(
            name=f"Summer Series night {n}",
            venue_name="Open-Air Amphitheatre of the Botanical Gardens",
            starts_at=STARTS + timedelta(days=n),
            onsale_at=STARTS - timedelta(days=30),
        )
    EventFactory(name="Winter Ball", starts_at=STARTS, onsale_at=STARTS)
    fan = fans(stack.url, "phone", "front-page")
    page = fan.page

    page.goto("/")
    page.fill("#event-search-q", "summer series")
    page.click("form[role=search] button[type=submit]")

    expect(page.locator("#events > li")).to_have_count(EVENTS_PER_PAGE)
    expect(page.locator(".pages")).to_contain_text("Page 1 of 2")
    _fits_the_phone(page)
    fan.shot("search")
    page.click("a[rel=next]")
    expect(page.locator("#events > li")).to_have_count(2)
    expect(page.locator("#event-search-q")).to_have_value("summer series")
    _fits_the_phone(page)

    page.fill("#event-search-q", "no such festival")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#events-none")).to_contain_text("No events match")
    _fits_the_phone(page)


def test_a_fan_switches_to_german_in_the_footer_and_it_stays(stack, fans):
    event = EventFactory(
        time_zone="Europe/Paris",
        starts_at=STARTS,
        onsale_at=STARTS - timedelta(days=30),
    )
    seatmap_replace(event=event, data=SMALL_MAP)
    fan = fans(stack.url, "phone", "event-page-german")
    _in_zone(fan, "America/New_York")
    page = fan.page
    page.goto(f"/events/{event.pk}/")

    page.select_option("#language", "de")
    page.click("#language-form button[type=submit]")

    page.wait_for_url(f"{stack.url}/events/{event.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    starts = page.locator("#event-starts")
    expect(starts.locator(".at-venue")).to_have_text("Do, 4. Jul 2030, 20:30 CEST")
    # The script writes the fan's own time in the page's language.
    expect(starts.locator(".fan-time")).to_contain_text("Ihre Zeit:")
    expect(starts.locator("time")).to_contain_text(re.compile(r"4\. Juli 2030.*14:30"))
    expect(page.locator("#event-prices")).to_contain_text("30,50 EUR")
    expect(page.locator("#language")).to_have_value("de")
    _fits_the_phone(page)
    fan.shot("event-german")

    page.goto("/")
    expect(page.locator("label[for=event-search-q]")).to_have_text(
        "Veranstaltungen nach Name oder Spielstätte suchen"
    )
    _fits_the_phone(page)
