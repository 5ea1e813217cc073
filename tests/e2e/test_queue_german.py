"""The waiting room in German in the browser: the texts queue.js writes
itself (the countdown, the alerts' note, the room's state, the title and
the notification when the turn comes) come from the German catalog."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.waitingroom.models import WaitingRoomConfig
from tests.e2e.conftest import event_on_sale
from tests.e2e.test_turn import RECORD_ALERTS, _alerts, _room

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_scripts_texts_are_german_for_a_german_browser(stack, fans):
    # given a German browser in the pre-queue, half an hour before the sale
    event = event_on_sale(organizer=OrganizerFactory(), onsale_in=timedelta(minutes=30))
    fan = fans(stack.url, "phone", "german-prequeue")
    fan.context.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9"})
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)
    page.get_by_role("button", name="In die Warteschlange einreihen").click()
    page.wait_for_url(f"{stack.url}{queue}")
    expect(page.locator(".queue-lead")).to_have_text(
        "Sie sind in der Vorwarteschlange."
    )
    fan.wait_for_status_poll()

    # then the script's countdown runs in German words
    countdown = page.locator("#queue-countdown")
    expect(countdown).to_have_text(re.compile(r"^(29|30) Min\. \d+ Sek\.$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)
    expect(countdown).to_have_text(re.compile(r"^(29|30) Min\. \d+ Sek\.$"))
    # the note the script writes once the alerts are set up is German too
    page.get_by_role(
        "button", name="Benachrichtigen, wenn ich an der Reihe bin"
    ).click()
    expect(page.locator("#queue-notify-note")).to_have_text(
        "Wenn Sie an der Reihe sind, ändert diese Seite ihren Titel und piept "
        "(Benachrichtigungen sind in diesem Browser aus)."
    )
    # and the refresh note, for pages without the script, is hidden by it
    expect(page.locator("#queue-refresh-note")).to_be_hidden()
    fan.shot("german-prequeue")


def test_the_turn_comes_in_german(stack, fans):
    # given a German fan waiting in a paused room, alerts allowed
    event = event_on_sale(organizer=OrganizerFactory())
    _room(event, state=WaitingRoomConfig.State.PAUSED, claim_seconds=600)
    fan = fans(stack.url, "desktop", "german-turn")
    fan.context.set_extra_http_headers({"Accept-Language": "de"})
    fan.context.add_init_script(RECORD_ALERTS)
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)
    page.get_by_role("button", name="In die Warteschlange einreihen").click()
    page.wait_for_url(f"{stack.url}{queue}")
    fan.wait_for_status_poll()
    expect(page.locator("#queue-live")).to_contain_text(
        "Etwa 0 Personen sind vor Ihnen."
    )
    page.get_by_role(
        "button", name="Benachrichtigen, wenn ich an der Reihe bin"
    ).click()
    expect(page.locator("#queue-notify-note")).to_have_text(
        "Sie bekommen eine Benachrichtigung, wenn Sie an der Reihe sind; diese "
        "Seite ändert außerdem ihren Titel und piept."
    )
    expect(page.locator("#queue-state")).to_have_text("pausiert")

    # when the room opens
    _room(event, state=WaitingRoomConfig.State.OPEN)

    # then the script names the new state, and the turn's alerts are German
    expect(page.locator("#queue-state")).to_have_text("offen")
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=30_000)
    # the seat map draws and greets the German fan in German
    expect(page.locator("#seats-map")).to_have_attribute(
        "data-drawn", str(event.seats.count())
    )
    expect(page.locator("#seats-status")).to_contain_text("Wählen Sie Plätze")
    alerts = _alerts(page)
    assert alerts["notes"] == [
        ["Sie sind an der Reihe", f"Wählen Sie jetzt Ihre Plätze für {event.name}."]
    ]
    _pattern, title = alerts["buzz"][0]
    assert title == f"Sie sind dran! Warteraum · {event.name}"


def test_the_page_works_in_english_words_when_the_catalog_does_not_load(stack, fans):
    # given a German fan whose browser gets an empty catalog (a failed load)
    event = event_on_sale(organizer=OrganizerFactory(), onsale_in=timedelta(minutes=30))
    fan = fans(stack.url, "phone", "german-no-catalog")
    fan.context.set_extra_http_headers({"Accept-Language": "de"})
    fan.context.route(
        "**/i18n/js/**",
        lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=""
        ),
    )
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)
    page.get_by_role("button", name="In die Warteschlange einreihen").click()
    page.wait_for_url(f"{stack.url}{queue}")
    fan.wait_for_status_poll()

    # then the script still runs (it took over from the page's refresh) and
    # writes its own texts in English, the page's server text staying German
    expect(page.locator("#queue-refresh-note")).to_be_hidden()
    countdown = page.locator("#queue-countdown")
    expect(countdown).to_have_text(re.compile(r"^(29|30) min \d+ s$"))
    expect(page.locator(".queue-lead")).to_have_text(
        "Sie sind in der Vorwarteschlange."
    )
