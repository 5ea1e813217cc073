"""The seat page in German in the browser: the texts seats.js writes itself
(the status line, the spoken seat descriptions, the selection and its total,
the hold) come from the German catalog, with German amounts; without the
catalog the page still works, in English."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from onsale.testutils.factories import OrganizerFactory, UserFactory
from tests.e2e.conftest import event_on_sale, seat_pick

pytestmark = pytest.mark.django_db(transaction=True)


def _german_fan_on_seat_map(fan: Any, event: Any) -> None:
    fan.context.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9"})
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)
    fan.page.click("#queue-join")
    fan.page.wait_for_url(f"{fan.base_url}/events/{event.pk}/seats")
    expect(fan.page.locator("#seats-map")).to_have_attribute(
        "data-drawn", str(event.seats.count())
    )
    expect(fan.page.locator("#seats-live")).to_have_text("Live.")


def test_the_scripts_texts_and_amounts_are_german_for_a_german_browser(stack, fans):
    # given a German browser admitted to the seat map
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(stack.url, "desktop", "german-seats")
    _german_fan_on_seat_map(fan, event)
    page = fan.page
    expect(page.locator("#seats-status")).to_have_text(
        "Wählen Sie Plätze im Plan, oder lassen Sie uns die besten freien aussuchen."
    )
    expect(page.locator("#seats-legend")).to_contain_text("Stalls: 50,00 EUR")

    # when the fan picks a seat: its name, the price and the total in German
    seat_pick(fan, 11)
    expect(page.locator("#seats-selection li")).to_have_text(
        ["Stalls, Reihe B, Platz 2: 50,00 EUR"]
    )
    expect(page.locator("#seats-total")).to_have_text("Summe 50,00 EUR")

    # the keyboard cursor speaks the seat in German
    page.locator("#seats-map").focus()
    page.keyboard.press("End")
    expect(page.locator("#seats-cursor")).to_have_text(
        "Stalls, Reihe B, Platz 10. Stalls, 50,00 EUR. frei."
    )

    # and the hold is announced in German
    page.get_by_role("button", name="Gewählte Plätze reservieren").click()
    expect(page.locator("#seats-status")).to_have_text(
        "Reserviert. Die Plätze gehören Ihnen für die angezeigte Zeit."
    )
    expect(page.locator("#seats-held-list li")).to_have_text(
        ["Stalls, Reihe B, Platz 2: 50,00 EUR"]
    )
    expect(page.locator("#seats-held-total")).to_have_text("Summe 50,00 EUR")
    expect(page.get_by_role("link", name="Weiter zur Kasse")).to_be_visible()
    fan.shot("german-seats")


def test_without_the_catalog_the_script_speaks_english(stack, fans):
    # given a German browser whose script catalog does not load
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(stack.url, "desktop", "german-seats-no-catalog")
    fan.page.route("**/i18n/js/**", lambda route: route.abort("failed"))
    _german_fan_on_seat_map(fan, event)
    page = fan.page

    # the page still works: the template is German, the script's texts English
    expect(page.locator("#seats-title")).to_contain_text("Plätze wählen")
    expect(page.locator("#seats-status")).to_have_text(
        "Choose seats on the map, or let us pick the best available."
    )
    seat_pick(fan, 11)
    expect(page.locator("#seats-selection li")).to_have_text(
        ["Stalls, row B, seat 2: 50,00 EUR"]
    )
    expect(page.locator("#seats-total")).to_have_text("Total 50,00 EUR")
    # The catalog's failed loads are this test's own doing; nothing else failed.
    provoked = [problem for problem in fan.problems if "/i18n/js/" in problem]
    assert provoked
    fan.problems = [problem for problem in fan.problems if problem not in provoked]
