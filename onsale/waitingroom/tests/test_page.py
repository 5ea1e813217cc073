from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from onsale.events.models import Event
from onsale.testutils.checkout import seated_event
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.testutils.seats import hold, seat_ids, sell
from onsale.waitingroom import services
from onsale.waitingroom.clock import clock_advance
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import queue_status_get

ONE_SEAT: dict[str, Any] = {
    "categories": [{"code": "A", "name": "Stalls", "price": "10.00"}],
    "generate": [{"section": "S", "rows": 1, "seats_per_row": 1, "category": "A"}],
}


@pytest.mark.django_db
def test_page_for_a_visitor_offers_login(make_room):
    room = make_room()
    response = Client().get(f"/events/{room.event_id}/queue")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in to join the queue" in html
    # The refresh works whether or not the script loads (queue.js cancels it).
    assert '<meta http-equiv="refresh" content="20" id="queue-refresh">' in html
    assert "<noscript>" not in html
    assert "waitingroom/queue.js" in html
    assert "https://" not in html and "http://" not in html  # no external assets
    assert 'data-status-url="/api/v1/events/' in html


@pytest.mark.django_db
def test_fan_joins_from_the_page_without_javascript(make_room, fan):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    client = Client()
    client.force_login(fan)
    page = f"/events/{room.event_id}/queue"
    assert "Join the queue" in client.get(page).content.decode()
    response = client.post(page)
    assert (response.status_code, response["Location"]) == (302, page)
    html = client.get(page).content.decode()
    assert 'You are number <strong id="queue-my-number">1</strong>.' in html
    assert 'role="status" aria-live="polite"' in html
    assert "About 0 people are ahead of you." in html
    assert "Admission is paused for the moment; your place is kept." in html
    assert "Keep this tab open." in html
    assert '<progress id="queue-progress" max="1" value="0">' in html


@pytest.mark.django_db
def test_admitted_fan_sees_the_way_to_seat_selection(make_room, fan):
    room = make_room()
    client = Client()
    client.force_login(fan)
    client.post(f"/events/{room.event_id}/queue")
    html = client.get(f"/events/{room.event_id}/queue").content.decode()
    assert "It is your turn" in html
    assert f'href="/events/{room.event_id}/seats"' in html


@pytest.mark.django_db
def test_prequeue_page_and_closed_room(make_room, fan):
    room = make_room(onsale_in=600)
    client = Client()
    client.force_login(fan)
    client.post(f"/events/{room.event_id}/queue")
    html = client.get(f"/events/{room.event_id}/queue").content.decode()
    assert "You are in the pre-queue" in html
    assert 'id="queue-countdown" role="timer"' in html
    # the countdown, rendered by the server too
    assert re.search(r'role="timer" aria-live="off">(9 min 5\d|10 min 0) s<', html)
    closed = make_room(state=WaitingRoomConfig.State.CLOSED)
    response = client.post(f"/events/{closed.event_id}/queue")
    assert response.status_code == 409
    assert "This waiting room is closed." in response.content.decode()


@pytest.mark.django_db
def test_page_of_draft_or_unknown_event_is_404(client):
    draft = EventFactory(status=Event.Status.DRAFT)
    assert client.get(f"/events/{draft.pk}/queue").status_code == 404
    assert client.get("/events/999999/queue").status_code == 404


@pytest.mark.django_db
def test_a_waiting_fan_reads_place_people_ahead_and_wait(make_room, fan):
    # one shopper at a time: the first joiner shops, the fan waits behind
    room = make_room(max_active=1)
    first = UserFactory()
    page = f"/events/{room.event_id}/queue"
    earlier = Client()
    earlier.force_login(first)
    earlier.post(page)
    client = Client()
    client.force_login(fan)
    client.post(page)

    html = client.get(page).content.decode()

    assert 'You are number <strong id="queue-my-number">2</strong>.' in html
    # nothing measured yet: no estimate from the configured rate
    assert "About 0 people are ahead of you. Estimated wait: being measured." in html
    assert '<progress id="queue-progress" max="2" value="1">' in html
    assert "Keep this tab open." in html


@pytest.mark.django_db
def test_waiting_fan_is_told_how_long_the_turn_is_kept(make_room, fan):
    # Given a fan waiting in a room that keeps a turn 10 minutes
    room = make_room(state=WaitingRoomConfig.State.PAUSED, claim_seconds=600)
    client = Client()
    client.force_login(fan)
    client.post(f"/events/{room.event_id}/queue")

    html = client.get(f"/events/{room.event_id}/queue").content.decode()

    # Then the page says it before the turn comes, and offers the alerts
    assert "When your turn comes you will have 10 min to start choosing seats." in html
    assert 'id="queue-notify"' in html
    assert f'data-event-name="{room.event.name}"' in html


def _lapsed_fan(make_room: Any, t0: int, settings: Any, **fields: Any) -> Any:
    """A room whose first fan (returned, signed in) let the turn lapse 10 s ago."""
    settings.WAITINGROOM_GRACE_SECONDS = 600
    room = make_room(now_ms=t0, rate_per_minute=1, burst=1, claim_seconds=30, **fields)
    fan = UserFactory()
    client = Client()
    client.force_login(fan)
    client.post(f"/events/{room.event_id}/queue")
    services.queue_join(
        event_id=room.event_id, user_id=UserFactory().pk, ip="192.0.2.9"
    )
    assert queue_status_get(event_id=room.event_id).serving == 1
    clock_advance(seconds=40)
    return room, client


@pytest.mark.django_db
def test_lapsed_turn_is_taken_back_from_the_page(make_room, t0, settings):
    room, client = _lapsed_fan(make_room, t0, settings)
    page = f"/events/{room.event_id}/queue"
    html = client.get(page).content.decode()
    assert "Your turn came while you were away." in html
    assert 'id="queue-reclaim"' in html and 'id="queue-rejoin"' in html
    assert 'name="number" value="1"' in html

    # When the fan takes it back (no JavaScript needed)
    response = client.post(page, {"action": "reclaim", "number": "1"})

    # Then they shop with their number
    assert (response.status_code, response["Location"]) == (302, page)
    html = client.get(page).content.decode()
    assert "It is your turn: your shopping session is running." in html
    # and a second click (the form posted again) changes nothing
    assert client.post(page, {"action": "reclaim", "number": "1"}).status_code == 302
    assert queue_status_get(event_id=room.event_id).turns_reclaimed == 1


@pytest.mark.django_db
def test_fan_rejoins_at_the_back_from_the_page(make_room, t0, settings):
    room, client = _lapsed_fan(make_room, t0, settings)
    page = f"/events/{room.event_id}/queue"

    response = client.post(page, {"action": "rejoin", "number": "1"})

    assert (response.status_code, response["Location"]) == (302, page)
    html = client.get(page).content.decode()
    assert 'You are number <strong id="queue-my-number">3</strong>.' in html
    # the old page's take-back button now meets a clear refusal
    refused = client.post(page, {"action": "reclaim", "number": "1"})
    assert refused.status_code == 409
    assert "Your place in this line has changed" in refused.content.decode()


@pytest.mark.django_db
def test_page_of_a_lapsed_turn_when_sold_out_offers_nothing(make_room, t0, settings):
    event = seated_event(seatmap=ONE_SEAT)
    room, client = _lapsed_fan(make_room, t0, settings, event=event)
    buyer = UserFactory()
    sell(event.pk, hold(event.pk, buyer.pk, "s-b", seat_ids=seat_ids(event)), buyer.pk)
    page = f"/events/{room.event_id}/queue"

    html = client.get(page).content.decode()

    assert "Everything is sold out for now" in html
    assert 'id="queue-reclaim"' not in html and 'id="queue-rejoin"' not in html
    refused = client.post(page, {"action": "rejoin", "number": "1"})
    assert refused.status_code == 409
    assert "Nothing is left to choose right now." in refused.content.decode()
