"""The seat page: rendered for a signed-in fan of a published event."""

from __future__ import annotations

import pytest

from onsale.testutils.factories import EventFactory


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
