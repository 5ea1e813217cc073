"""The waiting room page for a fan whose browser asks for German: every state
the page renders, its refusals, its durations and dates, and the script's
texts from the JavaScript catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from onsale.testutils.factories import UserFactory
from onsale.waitingroom import services
from onsale.waitingroom.clock import clock_advance
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import queue_status_get

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}

# English a German fan must not meet on the page.
ENGLISH = [
    "Waiting room",
    "What happens next",
    "Keep this tab open",
    "The queue now",
    "Now serving",
    "This page refreshes itself",
    "ahead of you",
    "Estimated wait",
    "Join the queue",
    "less than a minute",
]


def _german_page(client: Client, event_id: int) -> str:
    response = client.get(f"/events/{event_id}/queue", **GERMAN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="de">' in html
    found = [text for text in ENGLISH if text in html]
    assert found == []
    return html


def _joined(make_room: Any, **fields: Any) -> tuple[Any, Client]:
    room = make_room(**fields)
    client = Client()
    client.force_login(UserFactory())
    client.post(f"/events/{room.event_id}/queue", **GERMAN)
    return room, client


@pytest.mark.django_db
def test_a_visitor_reads_the_page_in_german(make_room):
    room = make_room()

    html = _german_page(Client(), room.event_id)

    assert f"Warteraum: {room.event.name}</h1>" in html
    assert "Anmelden und in die Warteschlange einreihen" in html
    assert "Noch kein Konto? <a href=" in html and ">Registrieren</a>." in html
    assert "<dt>Warteraum</dt>" in html and "<dt>Eingelassen bis Nummer</dt>" in html
    assert '<dd id="queue-state" data-state="open">offen</dd>' in html
    assert "Diese Seite aktualisiert sich alle 20 Sekunden." in html
    # the script's texts come from the German catalog, loaded before it
    catalog = html.index('<script src="/i18n/js/de/" defer></script>')
    assert catalog < html.index("waitingroom/queue.js")


@pytest.mark.django_db
def test_a_waiting_fan_reads_place_people_ahead_and_turn_window_in_german(
    make_room,
):
    room, client = _joined(make_room, max_active=1, claim_seconds=600)
    second = Client()
    second.force_login(UserFactory())
    second.post(f"/events/{room.event_id}/queue")
    third = Client()
    third.force_login(UserFactory())
    third.post(f"/events/{room.event_id}/queue")

    first = _german_page(client, room.event_id)
    last = _german_page(third, room.event_id)

    assert "Sie sind an der Reihe. Es geht weiter zur Platzwahl." in first
    assert 'Sie haben die Nummer <strong id="queue-my-number">3</strong>.' in last
    # one person or several: the plural follows the count
    assert "Etwa 1 Person ist vor Ihnen." in last
    assert "Geschätzte Wartezeit: wird gemessen." in last
    assert "Wenn Sie an der Reihe sind, haben Sie 10 Min. Zeit" in last
    assert "Benachrichtigen, wenn ich an der Reihe bin" in last
    assert "Lassen Sie diesen Tab offen." in last
    assert '<progress id="queue-progress" max="3" value="1">1 von 3</progress>' in last
    waiting = Client()
    waiting.force_login(UserFactory())
    waiting.post(f"/events/{room.event_id}/queue")
    assert "Etwa 2 Personen sind vor Ihnen." in _german_page(waiting, room.event_id)


@pytest.mark.django_db
def test_a_paused_room_in_german(make_room):
    room, client = _joined(make_room, state=WaitingRoomConfig.State.PAUSED)

    html = _german_page(client, room.event_id)

    assert "Etwa 0 Personen sind vor Ihnen." in html
    assert "Der Einlass ist gerade pausiert; Ihr Platz bleibt erhalten." in html
    assert '<dd id="queue-state" data-state="paused">pausiert</dd>' in html


@pytest.mark.django_db
def test_the_pre_queue_in_german_with_its_countdown(make_room):
    room, client = _joined(make_room, onsale_in=600)

    html = _german_page(client, room.event_id)

    assert "Sie sind in der Vorwarteschlange." in html
    assert "per Zufallsziehung eine Nummer" in html
    assert re.search(
        r'Der Verkauf beginnt in <span class="countdown" id="queue-countdown" '
        r'role="timer" aria-live="off">(9 Min\. 5\d|10 Min\. 0) Sek\.</span>',
        html,
    )
    # the start in German order, day and month names
    assert re.search(
        r"\(<time datetime=\"[^\"]+\">\w\w, \d+\. \w+ \d{4}, \d\d:\d\d UTC</time>\)",
        html,
    )
    assert '<dd id="queue-state" data-state="prequeue">Vorwarteschlange</dd>' in html


@pytest.mark.django_db
def test_an_admitted_fan_in_german(make_room):
    room, client = _joined(make_room)

    html = _german_page(client, room.event_id)

    assert "Sie sind an der Reihe" in html
    assert ">Weiter zur Platzwahl</a>" in html
    assert "Wählen Sie Ihre Plätze im Saalplan und bezahlen Sie dann." in html


def _lapsed(make_room: Any, t0: int, settings: Any) -> tuple[Any, Client]:
    settings.WAITINGROOM_GRACE_SECONDS = 600
    room, client = _joined(
        make_room, now_ms=t0, rate_per_minute=1, burst=1, claim_seconds=30
    )
    services.queue_join(
        event_id=room.event_id, user_id=UserFactory().pk, ip="192.0.2.9"
    )
    assert queue_status_get(event_id=room.event_id).serving == 1
    clock_advance(seconds=40)
    return room, client


@pytest.mark.django_db
def test_a_lapsed_turn_in_german_offers_take_back_and_rejoin(make_room, t0, settings):
    room, client = _lapsed(make_room, t0, settings)

    html = _german_page(client, room.event_id)

    assert "Sie waren an der Reihe, als Sie nicht da waren." in html
    assert re.search(
        r'noch bis <time datetime="[^"]+">\d\d:\d\d UTC</time> zurückholen\.', html
    )
    assert 'id="queue-reclaim">Meinen Einlass zurückholen</button>' in html
    assert 'class="secondary">Hinten wieder anstellen</button>' in html
    assert "Holen Sie Ihren Einlass zurück" in html


@pytest.mark.django_db
def test_an_expired_turn_in_german_offers_rejoin(make_room, t0, settings):
    room, client = _lapsed(make_room, t0, settings)
    clock_advance(seconds=600)

    html = _german_page(client, room.event_id)

    assert "Ihr Einlass ist vorbei: Die Zeit, ihn anzunehmen" in html
    assert 'id="queue-reclaim"' not in html
    assert 'id="queue-rejoin">Hinten wieder anstellen</button>' in html
    assert "Mit diesem Platz können Sie nicht mehr einkaufen." in html

    # the old page's take-back button meets the refusal in German
    refused = client.post(
        f"/events/{room.event_id}/queue", {"action": "reclaim", "number": "1"}, **GERMAN
    )
    assert refused.status_code == 409
    assert (
        "Ihr Einlass ist vorbei und kann nicht mehr zurückgeholt werden"
        in refused.content.decode()
    )


@pytest.mark.django_db
def test_a_scheduled_and_a_closed_room_in_german(make_room, fan):
    scheduled = make_room(onsale_in=7200, prequeue_opens_in=3600)
    html = _german_page(Client(), scheduled.event_id)
    assert re.search(
        r"Die Vorwarteschlange öffnet am <time datetime=\"[^\"]+\">"
        r"\w\w, \d+\. \w+ \d{4}, \d\d:\d\d UTC</time>\.",
        html,
    )

    closed = make_room(state=WaitingRoomConfig.State.CLOSED)
    client = Client()
    client.force_login(fan)
    response = client.post(f"/events/{closed.event_id}/queue", **GERMAN)
    assert response.status_code == 409
    assert '<p class="errors" role="alert">Dieser Warteraum ist geschlossen.</p>' in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_english_stays_the_default(make_room):
    room, client = _joined(make_room, state=WaitingRoomConfig.State.PAUSED)

    html = client.get(f"/events/{room.event_id}/queue").content.decode()

    assert "About 0 people are ahead of you." in html
    assert '<dd id="queue-state" data-state="paused">paused</dd>' in html
    assert '<script src="/i18n/js/en/" defer></script>' in html


@pytest.mark.django_db
def test_the_script_catalog_is_german_for_its_address_and_cacheable():
    # The address names the language, whatever the browser asks for.
    response = Client().get("/i18n/js/de/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert '"Sie sind an der Reihe"' in body
    assert '"%(minutes)s Min."' in body
    assert '"waiting room state\\u0004paused": "pausiert"' in body
    assert "About %(ahead)s person is ahead of you." in body  # the plural's key
    assert "Etwa %(ahead)s Personen sind vor Ihnen." in body
    assert response["Content-Language"] == "de"
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "max-age=3600" in cache_control
    # only the apps with translated scripts: not Django admin's own texts
    assert "Show all" not in body and "Alle anzeigen" not in body


@pytest.mark.django_db
def test_the_english_script_catalog_and_an_unknown_language():
    english = Client().get("/i18n/js/en/", HTTP_ACCEPT_LANGUAGE="de")

    assert english.status_code == 200
    assert "Sie sind an der Reihe" not in english.content.decode()
    assert Client().get("/i18n/js/xx/").status_code == 404
