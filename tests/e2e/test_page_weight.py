"""Page weight and time to first render of the waiting room and of a
5,000-seat map, each loaded cold (nothing cached) at both viewports. Budgets:
under 100 KB transferred for the queue page, under 300 KB for the seat map.
The figures (with every resource's size) go to artifacts/e2e/page-weights.json
and the end of the pytest output."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onsale.config.management.commands.demo_load import (
    DEMO_SEATMAP,
    DEMO_SEATMAP_SEATS,
)
from onsale.testutils.factories import OrganizerFactory, UserFactory
from tests.e2e.conftest import event_on_sale, seat_map_ready

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_BUDGET = 100 * 1024
SEAT_MAP_BUDGET = 300 * 1024


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_queue_and_5000_seat_map_pages_stay_within_budget(stack, fans, viewport):
    event = event_on_sale(organizer=OrganizerFactory(), seatmap=DEMO_SEATMAP)
    assert event.seats.count() == DEMO_SEATMAP_SEATS == 5000
    fan = fans(stack.url, viewport, "weight")
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)

    # the waiting room as a fan who has not joined yet sees it
    fan.wait_for_status_poll()
    queue_page = fan.measure("queue")
    fan.shot("queue")

    page.click("#queue-join")
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats")
    seat_map_ready(fan, DEMO_SEATMAP_SEATS)
    expect(page.locator("#seats-legend li")).to_have_count(3)
    seat_map = fan.measure("seats (5,000 seats)")
    fan.shot("seat-map-5000")

    print(f"\n[e2e] {viewport} queue {queue_page}\n[e2e] {viewport} seats {seat_map}")
    assert queue_page["bytes"] < QUEUE_BUDGET, queue_page
    assert seat_map["bytes"] < SEAT_MAP_BUDGET, seat_map
    assert queue_page["first_contentful_paint_ms"] is not None
    assert seat_map["first_contentful_paint_ms"] is not None
