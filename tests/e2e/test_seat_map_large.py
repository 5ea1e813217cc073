"""A 50,000-seat map on a throttled phone (onsale/testutils/seat_map_browser.py:
CPU four times slower, 1.6 Mbit/s, 150 ms round trip): the time to the first
full draw and the frames per second while panning are printed, not asserted
(they depend on the machine); what is asserted is what the fan sees: every
seat drawn, section names and the stage, a seat held by someone else visible
at the widest zoom, a pinch that zooms, a tap that picks the seat under the
finger and a best-available hold brought into view."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from onsale.seatselection import services as seat_services
from onsale.testutils import seat_map_browser
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.waitingroom.services import admission_session_start
from tests.e2e.conftest import (
    FIGURES,
    TAKEN_RGB,
    event_on_sale,
    hex_rgb,
    seat_map_ready,
    seat_pick,
    seat_pixel,
    seat_point,
    seat_state,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

SEATS = 50_000


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def _view(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.onsaleSeatMap.view()"))


def _settled(page: Any) -> dict[str, Any]:
    wait_until(
        lambda: not page.evaluate("() => window.onsaleSeatMap.stats().pending"),
        30,
        "the map to settle",
    )
    return _view(page)


def _on_screen(page: Any, index: int) -> bool:
    point = seat_point(page, index)
    box = page.locator("#seats-map").bounding_box()
    return bool(
        box["x"] <= point["x"] <= box["x"] + box["width"]
        and box["y"] <= point["y"] <= box["y"] + box["height"]
    )


def test_a_50000_seat_map_on_a_throttled_phone(stack, fans):
    # given a 50,000-seat event, one of whose seats another fan holds
    event = event_on_sale(
        organizer=OrganizerFactory(), seatmap=seat_map_browser.large_seat_map()
    )
    assert event.seats.count() == SEATS
    # (away from the middle of a block, where its name is written)
    seat = event.seats.get(section__name="Block B3", row_label="J", label="10")
    control = event.seats.get(section__name="Block C2", row_label="J", label="10")
    rival = UserFactory()
    grant = admission_session_start(event_id=event.pk, user_id=rival.pk)
    seat_services.hold_create(
        event_id=event.pk,
        user_id=rival.pk,
        session_id=grant.claims.session_id,
        session_expires_at=grant.claims.expires_at,
        seat_ids=[seat.pk],
    )

    # when a fan on a throttled phone is admitted to the map
    fan = fans(stack.url, "phone", "large-map")
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(UserFactory().email, queue)
    seat_map_browser.seat_map_warm(stack.url, event.pk)
    seat_map_browser.throttle(fan.cdp)
    page.click("#queue-join")
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=60_000)
    expect(page.locator("#seats-map")).to_have_attribute(
        "data-drawn", str(SEATS), timeout=60_000
    )
    seat_map_ready(fan, SEATS)
    draw = seat_map_browser.draw_figures(page)
    _settled(page)
    pan = seat_map_browser.pan_figures(page, fan.cdp)
    seat_map_browser.unthrottle(fan.cdp)
    page.locator("#seats-zoom-reset").click()
    fan.shot("whole-venue")
    lines = seat_map_browser.figures_lines("seat map e2e", draw, pan)
    FIGURES.extend(lines)
    print("\n" + "\n".join(lines))

    # then every seat is drawn, with the section names and the stage
    assert (draw["seats"], draw["drawn"]) == (SEATS, SEATS)
    _settled(page)
    stats = page.evaluate("() => window.onsaleSeatMap.stats()")
    assert stats["mode"] == "cells"
    assert stats["stage"] is True
    assert "Block A1" in stats["sections"]
    assert len(stats["sections"]) == 20
    assert pan["map_frames"] > 0
    # the held seat shows, greyed, at the widest zoom; a free one far from it
    # keeps its category's colour
    held = seat_pixel(page, seat.index)
    lower = hex_rgb("#0b5cad")  # Block B3's category
    assert seat_state(page, seat.index) == "taken"
    assert _distance(held, TAKEN_RGB) < _distance(held, lower), held
    assert seat_pixel(page, control.index) == hex_rgb("#1f7a36")

    # a pinch zooms in around the fingers
    before = _settled(page)
    seat_map_browser.pinch(fan.cdp, page, spread=3.0)
    after = _settled(page)
    assert after["scale"] > before["scale"] * 2
    middle = (before["x"] + before["w"] / 2, before["y"] + before["h"] / 2)
    assert abs(after["x"] + after["w"] / 2 - middle[0]) < before["w"] * 0.05
    fan.shot("pinched")

    # a tap where seats are too small to pick zooms in; then a tap picks the
    # seat under the finger, with its row labels drawn
    page.locator("#seats-zoom-reset").click()
    _settled(page)
    target = event.seats.get(section__name="Block D5", row_label="C", label="7")
    seat_pick(fan, target.index)
    wait_until(lambda: _view(page)["spacing"] >= 20, 30, "the zoom after a tap")
    _settled(page)
    assert seat_state(page, target.index) == "available"
    seat_pick(fan, target.index)
    assert seat_state(page, target.index) == "selected"
    expect(page.locator("#seats-selection li")).to_have_text(
        ["Block D5, row C, seat 7: 35.00 EUR"]
    )
    stats = page.evaluate("() => window.onsaleSeatMap.stats()")
    assert stats["mode"] == "circles"
    assert stats["sections"] == ["Block D5"]
    assert stats["rowLabels"] > 0
    assert stats["seatLabels"] > 0
    fan.shot("zoomed-selected")

    # best available, asked for from the far corner, is brought into view
    page.locator("#seats-best-category").select_option("P1")
    page.locator("#seats-best-quantity").fill("2")
    page.get_by_role("button", name="Find and hold the best seats").click()
    expect(page.locator("#seats-held-list li")).to_have_count(2)
    wait_until(lambda: not _view(page)["moving"], 30, "the move to the held seats")
    mine = page.evaluate(
        "() => { const found = [];"
        " for (let i = 0; i < window.onsaleSeatMap.seatCount(); i++) {"
        " if (window.onsaleSeatMap.seatState(i) === 'mine') { found.push(i); } }"
        " return found; }"
    )
    assert len(mine) == 2
    assert all(_on_screen(page, index) for index in mine), mine
    assert not _on_screen(page, target.index)
    assert _view(page)["spacing"] >= 20
    fan.shot("best-available")
