from __future__ import annotations

import re

import pytest
from django.test import Client

from onsale.events.models import Event
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.waitingroom.models import WaitingRoomConfig


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
