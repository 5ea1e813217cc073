from __future__ import annotations

import pytest
from django.test import Client

from onsale.seatselection.models import Event
from onsale.seatselection.tests.factories import EventFactory
from onsale.waitingroom.models import WaitingRoomConfig


@pytest.mark.django_db
def test_page_for_a_visitor_offers_login(make_room):
    room = make_room()
    response = Client().get(f"/events/{room.event_id}/queue")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in to join the queue" in html
    assert '<noscript><meta http-equiv="refresh" content="20"></noscript>' in html
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
    assert 'No. <span id="queue-my-number">1</span>' in html
    assert 'role="status" aria-live="polite"' in html
    assert "0 people ahead of you" in html
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
    assert 'id="queue-countdown"' in html
    closed = make_room(state=WaitingRoomConfig.State.CLOSED)
    response = client.post(f"/events/{closed.event_id}/queue")
    assert response.status_code == 409
    assert "This waiting room is closed." in response.content.decode()


@pytest.mark.django_db
def test_page_of_draft_or_unknown_event_is_404(client):
    draft = EventFactory(status=Event.Status.DRAFT)
    assert client.get(f"/events/{draft.pk}/queue").status_code == 404
    assert client.get("/events/999999/queue").status_code == 404
