"""The event page, open to everyone, and the seat page, for a signed-in fan of a
published event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onsale.events.models import Event
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import SMALL_MAP
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import waitingroom_config_get


@pytest.mark.django_db
def test_the_seat_page_renders_for_a_signed_in_fan(client, fan, seated_event):
    client.force_login(fan)

    response = client.get(f"/events/{seated_event.pk}/seats")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<canvas id="seats-canvas"' in html
    assert f"/api/v1/events/{seated_event.pk}/seats/stream" in html
    assert "seatselection/seats.js" in html
    assert "csrftoken" in response.cookies
    # Once a hold is made the page links on to checkout (seats.js sets the href).
    assert 'id="seats-checkout"' in html


@pytest.mark.django_db
def test_the_seat_page_needs_a_login_and_a_published_event(client, fan):
    draft = EventFactory(status="draft")
    published = EventFactory()

    anonymous = client.get(f"/events/{published.pk}/seats")
    client.force_login(fan)
    hidden = client.get(f"/events/{draft.pk}/seats")

    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
    assert hidden.status_code == 404


@pytest.mark.django_db
def test_the_seat_page_in_german_with_the_event_time_in_its_own_zone(client, fan):
    event = _new_york_event(time_zone="Europe/Berlin")
    client.force_login(fan)

    html = client.get(
        f"/events/{event.pk}/seats", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()

    assert '<html lang="de">' in html
    assert "<title>Plätze wählen · Fireworks Gala" in html
    assert '<h1 id="seats-title">Plätze wählen: Fireworks Gala</h1>' in html
    # 23:30 UTC on 4 July is 01:30 on 5 July in Berlin, in the German format.
    assert '<p id="seats-event">Riverside Park, Fr, 5. Jul 2030, 01:30 CEST</p>' in html
    assert (
        '<button type="button" id="seats-hold" disabled>Gewählte Plätze reservieren</button>'
        in html
    )
    assert 'aria-label="Vergrößern"' in html and ">Ganze Spielstätte<" in html
    assert 'Ihre Plätze sind noch <strong id="seats-countdown"' in html
    assert ">Beste Plätze suchen und reservieren<" in html
    # The script's texts: the German catalog, loaded before the script.
    catalog = html.index('src="/i18n/js/de/"')
    assert catalog < html.index("seatselection/seats.js")
    script = client.get("/i18n/js/de/").content.decode()
    assert "Reihe %(row)s, Platz %(seat)s" in script
    assert (
        "Noch keine Pl\\u00e4tze gew\\u00e4hlt." in script
        or "Noch keine Plätze gewählt." in script
    )


@pytest.mark.django_db
def test_the_seat_page_in_english_names_the_events_zone(client, fan):
    event = _new_york_event()
    client.force_login(fan)

    html = client.get(f"/events/{event.pk}/seats").content.decode()

    assert '<h1 id="seats-title">Choose seats: Fireworks Gala</h1>' in html
    assert '<p id="seats-event">Riverside Park, Thu 4 Jul 2030, 19:30 EDT</p>' in html
    assert (
        '<button type="button" id="seats-hold" disabled>Hold selected seats</button>'
        in html
    )
    assert 'src="/i18n/js/en/"' in html


# --- The event page -----------------------------------------------------------


def _new_york_event(**overrides):
    """A published event in New York: doors at 19:30 EDT on 4 July 2030."""
    facts = {
        "name": "Fireworks Gala",
        "venue_name": "Riverside Park",
        "time_zone": "America/New_York",
        "starts_at": datetime(2030, 7, 4, 23, 30, tzinfo=UTC),
        "onsale_at": datetime(2030, 6, 1, 14, 0, tzinfo=UTC),
        "currency": "USD",
    }
    facts.update(overrides)
    return EventFactory(**facts)


@pytest.mark.django_db
def test_the_event_page_shows_venue_times_in_both_zones_prices_and_the_queue(client):
    event = _new_york_event()
    seatmap_replace(event=event, data=SMALL_MAP)

    response = client.get(f"/events/{event.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Fireworks Gala" in html
    assert '<dd id="event-venue">Riverside Park</dd>' in html
    # The event's own zone, on the server: 23:30 UTC is 19:30 EDT.
    assert '<span class="at-venue">Thu 4 Jul 2030, 19:30 EDT</span>' in html
    assert '<span class="at-venue">Sat 1 Jun 2030, 10:00 EDT</span>' in html
    assert "America/New_York" in html
    # The fan's zone: the UTC instant for the script, the event's time meanwhile.
    assert (
        '<time datetime="2030-07-04T23:30:00+00:00" data-fan-time>'
        "Thu 4 Jul 2030, 19:30 EDT</time>"
    ) in html
    assert '<time datetime="2030-06-01T14:00:00+00:00" data-fan-time>' in html
    assert "seatselection/event.js" in html
    assert "<td>Stalls</td><td>50.00 USD</td>" in html
    assert "<td>Balcony</td><td>30.50 USD</td>" in html
    assert (
        '<td>Standing <span class="helptext">(standing)</span></td><td>25.00 USD</td>'
    ) in html
    assert "From 25.00 USD" in html
    assert f'id="event-join" href="/events/{event.pk}/queue"' in html


@pytest.mark.django_db
def test_the_event_page_in_german_shows_german_prices_and_dates(client):
    event = _new_york_event(time_zone="Europe/Berlin")
    seatmap_replace(event=event, data=SMALL_MAP)

    html = client.get(
        f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()

    assert '<html lang="de">' in html
    # 23:30 UTC on 4 July is 01:30 on 5 July in Berlin: German order and names.
    assert '<span class="at-venue">Fr, 5. Jul 2030, 01:30 CEST</span>' in html
    assert '<span class="at-venue">Sa, 1. Jun 2030, 16:00 CEST</span>' in html
    assert "<dt>Datum und Uhrzeit</dt>" in html and "Ihre Zeit:" in html
    # German decimal comma, the currency code after the amount.
    assert "<td>Stalls</td><td>50,00 USD</td>" in html
    assert "<td>Balcony</td><td>30,50 USD</td>" in html
    assert '<span class="helptext">(Stehplatz)</span></td><td>25,00 USD</td>' in html
    assert "Ab 25,00 USD. Ihre Plätze wählen Sie" in html
    assert ">In die Warteschlange einreihen</a>" in html
    assert "Zeiten in der Ortszeit der Spielstätte (Europe/Berlin)." in html


@pytest.mark.django_db
def test_the_event_page_in_english_groups_thousands(client):
    event = _new_york_event()
    seatmap_replace(
        event=event,
        data={
            "categories": [{"code": "VIP", "name": "Box", "price": "1250.00"}],
            "generate": [
                {"section": "B", "rows": 1, "seats_per_row": 2, "category": "VIP"}
            ],
        },
    )

    html = client.get(f"/events/{event.pk}/").content.decode()
    german = client.get(
        f"/events/{event.pk}/", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()

    assert "<td>Box</td><td>1,250.00 USD</td>" in html
    assert "<td>Box</td><td>1.250,00 USD</td>" in german


@pytest.mark.django_db
def test_the_event_page_shows_the_waiting_rooms_own_schedule(client):
    event = _new_york_event()
    waitingroom_config_get(event_id=event.pk)
    WaitingRoomConfig.objects.filter(event=event).update(
        prequeue_opens_at=datetime(2030, 6, 1, 13, 0, tzinfo=UTC),
        onsale_at=datetime(2030, 6, 2, 16, 15, tzinfo=UTC),
    )

    html = client.get(f"/events/{event.pk}/").content.decode()

    assert '<span class="at-venue">Sun 2 Jun 2030, 12:15 EDT</span>' in html
    assert '<span class="at-venue">Sat 1 Jun 2030, 09:00 EDT</span>' in html
    assert "Sat 1 Jun 2030, 10:00 EDT" not in html


@pytest.mark.django_db
def test_the_event_page_in_another_zone_and_without_a_seat_map(client):
    event = _new_york_event(time_zone="Asia/Tokyo")

    html = client.get(f"/events/{event.pk}/").content.decode()

    # 23:30 UTC on 4 July is 08:30 on 5 July in Tokyo.
    assert '<span class="at-venue">Fri 5 Jul 2030, 08:30 JST</span>' in html
    assert 'data-time-zone="Asia/Tokyo"' in html
    assert 'id="event-prices-none"' in html
    assert 'id="event-prices"' not in html


@pytest.mark.django_db
def test_a_started_event_offers_no_queue(client):
    starts = timezone.now() - timedelta(hours=1)
    event = EventFactory(starts_at=starts, onsale_at=starts - timedelta(days=1))

    html = client.get(f"/events/{event.pk}/").content.decode()

    assert 'id="event-started"' in html
    assert 'id="event-join"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["draft", "cancelled"])
def test_hidden_events_are_the_branded_404(client, status):
    hidden = EventFactory(status=status)

    for path in (f"/events/{hidden.pk}/", "/events/999999/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        html = response.content.decode()
        assert "Page not found" in html
        assert "onsale/site.css" in html


@pytest.mark.django_db
def test_the_event_page_reads_the_same_few_rows_however_many_prices(client):
    few = _new_york_event()
    many = _new_york_event()
    categories = [
        {"code": f"C{n}", "name": f"Level {n}", "price": f"{10 + n}.00"}
        for n in range(12)
    ]
    seatmap_replace(
        event=many,
        data={
            "categories": categories,
            "generate": [
                {"section": f"S{n}", "rows": 2, "seats_per_row": 5, "category": f"C{n}"}
                for n in range(12)
            ],
        },
    )
    # Both waiting rooms exist already (a first view writes the room's row).
    for event in (few, many):
        client.get(f"/events/{event.pk}/")

    with CaptureQueriesContext(connection) as few_queries:
        assert client.get(f"/events/{few.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as many_queries:
        response = client.get(f"/events/{many.pk}/")

    assert response.content.decode().count("<td>Level ") == 12
    # The event, its waiting room, its price categories.
    assert len(many_queries) == len(few_queries) == 3


@pytest.mark.django_db
def test_an_event_whose_stored_zone_is_unknown_still_has_a_page(client, settings):
    settings.TIME_ZONE = "UTC"
    event = _new_york_event()
    Event.objects.filter(pk=event.pk).update(time_zone="Atlantis/Capital")

    response = client.get(f"/events/{event.pk}/")

    assert response.status_code == 200
    assert '<span class="at-venue">Thu 4 Jul 2030, 23:30 UTC</span>' in (
        response.content.decode()
    )
