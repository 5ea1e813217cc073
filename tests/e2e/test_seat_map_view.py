"""The seat map with a mouse and a keyboard on a desktop: what it labels, and
how the wheel, a drag, a click and the keys move and zoom it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from onsale.testutils.factories import OrganizerFactory, UserFactory
from tests.e2e.conftest import (
    event_on_sale,
    fan_on_seat_map,
    seat_pick,
    seat_point,
    seat_state,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _view(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.onsaleSeatMap.view()"))


def _stats(page: Any) -> dict[str, Any]:
    wait_until(
        lambda: not page.evaluate("() => window.onsaleSeatMap.stats().pending"),
        30,
        "the map to settle",
    )
    return dict(page.evaluate("() => window.onsaleSeatMap.stats()"))


def test_the_map_is_labelled_and_follows_the_mouse_and_the_keys(stack, fans):
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(stack.url, "desktop", "map-view")
    fan_on_seat_map(fan, event, UserFactory().email)
    page = fan.page

    # the whole venue: both sections named, every row labelled, the seats
    # numbered and the stage drawn above the front rows
    stats = _stats(page)
    assert stats["mode"] == "circles"
    assert sorted(stats["sections"]) == ["Balcony", "Stalls"]
    assert (stats["rowLabels"], stats["seatLabels"]) == (8, 80)
    assert stats["stage"] is True
    home = _view(page)

    # the wheel zooms in around the pointer
    point = seat_point(page, 0)
    page.mouse.move(point["x"], point["y"])
    page.mouse.wheel(0, -300)
    wait_until(lambda: _view(page)["scale"] > home["scale"] * 1.2, 10, "the zoom")
    zoomed = _view(page)
    moved = seat_point(page, 0)
    assert abs(moved["x"] - point["x"]) < 2 and abs(moved["y"] - point["y"]) < 2

    # a drag pans and picks nothing
    page.mouse.move(point["x"], point["y"])
    page.mouse.down()
    page.mouse.move(point["x"] + 60, point["y"] + 30, steps=6)
    page.mouse.up()
    dragged = _view(page)
    assert abs((zoomed["x"] - dragged["x"]) * zoomed["scale"] - 60) < 2
    assert abs((zoomed["y"] - dragged["y"]) * zoomed["scale"] - 30) < 2
    assert seat_state(page, 0) == "available"
    expect(page.locator("#seats-selection li")).to_have_count(0)

    # a click picks the seat under the pointer, a second click puts it back
    seat_pick(fan, 11)
    assert seat_state(page, 11) == "selected"
    expect(page.locator("#seats-selection li")).to_have_text(
        ["Stalls, row B, seat 2: 50.00 EUR"]
    )
    seat_pick(fan, 11)
    assert seat_state(page, 11) == "available"

    # the keys: the cursor walks a row and the rows, + and - zoom, the
    # "Whole venue" button goes back
    page.locator("#seats-map").focus()
    page.keyboard.press("End")
    expect(page.locator("#seats-cursor")).to_contain_text("row B, seat 10")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#seats-cursor")).to_contain_text("row C, seat 10")
    before = _view(page)["scale"]
    page.keyboard.press("+")
    assert _view(page)["scale"] > before
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert _view(page)["scale"] < before
    page.get_by_role("button", name="Whole venue").click()
    assert _view(page)["scale"] == home["scale"]
    fan.shot("map-view")
