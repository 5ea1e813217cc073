"""A fan's whole on-sale, at a phone's and a desktop's viewport: sign up,
join the pre-queue, watch the countdown, keep the place across a reload and a
second device, get a number in the draw, get admitted when the organizer
opens the room, see another fan's hold grey a seat out live, pick two seats,
pay with the success card, see the tickets' QR codes, find the order in "my
orders" and cancel it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from onsale.orders.models import Order
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.usermgmt.models import User
from onsale.waitingroom.services import queue_join
from tests.e2e.conftest import (
    PASSWORD,
    TAKEN_RGB,
    event_on_sale,
    seat_map_ready,
    seat_pick,
    seat_pixel,
    wait_for_seat_state,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _organizer_sets(organizer: Any, event: Any, **fields: Any) -> None:
    """The organizer changes the waiting room through its API."""
    client = APIClient()
    client.force_authenticate(organizer)
    response = client.patch(
        f"/api/v1/organizer/events/{event.pk}/waitingroom", fields, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_fan_queues_buys_two_seats_and_cancels(stack, fans, viewport):
    # given an event whose sale starts in 30 minutes, with three fans already
    # in its pre-queue
    organizer = OrganizerFactory()
    event = event_on_sale(organizer=organizer, onsale_in=timedelta(minutes=30))
    others = [UserFactory() for _ in range(3)]
    for other in others:
        queue_join(event_id=event.pk, user_id=other.pk, ip="192.0.2.10")
    queue = f"/events/{event.pk}/queue"
    email = f"fan-{viewport}@example.test"

    fan = fans(stack.url, viewport, "journey")
    page = fan.page

    # a visitor finds the event on the front page and signs up from its
    # waiting room
    page.goto("/")
    page.get_by_role("link", name=f"Waiting room of {event.name}").click()
    page.wait_for_url(f"{stack.url}{queue}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(event.name)
    page.get_by_role("link", name="Sign up", exact=True).last.click()
    page.wait_for_url(re.compile(r".*/signup/\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill("Ada Fan")
    page.get_by_label("Password").fill(PASSWORD)
    fan.measure("sign-up")
    fan.shot("sign-up")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{stack.url}{queue}")

    # joins the pre-queue and sees the countdown run
    page.get_by_role("button", name="Join the queue").click()
    page.wait_for_url(f"{stack.url}{queue}")
    expect(page.locator(".queue-lead")).to_have_text("You are in the pre-queue.")
    countdown = page.locator("#queue-countdown")
    expect(countdown).to_have_text(re.compile(r"^(29|30) min \d+ s$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)
    expect(page.locator(".keep")).to_contain_text("Keep this tab open")
    fan.wait_for_status_poll()
    weight = fan.measure("queue")
    assert weight["bytes"] < 100 * 1024, weight
    fan.shot("pre-queue")

    # the place survives a reload ...
    page.reload()
    expect(page.locator(".queue-lead")).to_have_text("You are in the pre-queue.")
    expect(page.get_by_role("button", name="Join the queue")).to_have_count(0)
    # ... and a second device signed in to the same account
    phone_two = fans(stack.url, viewport, "journey-second-device")
    phone_two.login(email, queue)
    expect(phone_two.page.locator(".queue-lead")).to_have_text(
        "You are in the pre-queue."
    )

    # when the sale starts (paused at first), the draw gives everyone a number
    _organizer_sets(
        organizer,
        event,
        state="paused",
        onsale_at=(timezone.now() + timedelta(seconds=3)).isoformat(),
    )
    number_node = page.locator("#queue-my-number")
    expect(number_node).to_have_text(re.compile(r"^[1-4]$"), timeout=45_000)
    number = int(number_node.inner_text())
    ahead = number - 1
    people = "person is" if ahead == 1 else "people are"
    expect(page.locator("#queue-live")).to_contain_text(
        f"About {ahead} {people} ahead of you."
    )
    expect(page.locator("#queue-live")).to_contain_text("Admission is paused")
    expect(page.locator("#queue-progress")).to_have_attribute("max", str(number))
    expect(page.locator("#queue-countdown-box")).to_be_hidden()
    fan.shot("numbered")
    expect(phone_two.page.locator("#queue-my-number")).to_have_text(
        str(number), timeout=45_000
    )
    phone_two.close()

    # a rival fan (admitted with the same opening) is on the seat map too
    rival = fans(stack.url, viewport, "journey-rival")
    rival.login(others[0].email, queue)

    # the organizer opens the room: the fan is admitted and taken to the seats
    _organizer_sets(organizer, event, state="open")
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=45_000)
    seat_map_ready(fan, 80)
    fan.measure("seats (80 seats)")
    fan.shot("seat-map")
    rival.page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=45_000)
    seat_map_ready(rival, 80)

    # the rival holds seat index 5; the fan sees it greyed out live
    seat_pick(rival, 5)
    rival.page.get_by_role("button", name="Hold selected seats").click()
    expect(rival.page.locator("#seats-held")).to_be_visible()
    wait_for_seat_state(page, 5, "taken")
    assert seat_pixel(page, 5) == TAKEN_RGB
    fan.shot("rival-hold-live")

    # the fan picks two seats: by keyboard on the desktop, by touch on the phone
    if viewport == "desktop":
        page.locator("#seats-map").focus()
        expect(page.locator("#seats-cursor")).to_contain_text("Stalls, row A, seat 1")
        page.keyboard.press("Enter")
        page.keyboard.press("ArrowRight")
        expect(page.locator("#seats-cursor")).to_contain_text("seat 2")
        page.keyboard.press("Enter")
    else:
        seat_pick(fan, 0)
        seat_pick(fan, 1)
    expect(page.locator("#seats-selection li")).to_have_count(2)
    expect(page.locator("#seats-total")).to_have_text("Total 100.00 EUR")
    page.get_by_role("button", name="Hold selected seats").click()
    expect(page.locator("#seats-held")).to_be_visible()
    expect(page.locator("#seats-held-list li")).to_have_count(2)
    expect(page.locator("#seats-countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
    fan.shot("held")

    # checkout with the success card
    page.get_by_role("link", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/\d+/\d+/$"))
    expect(page.locator("table.lines tbody tr")).to_have_count(2)
    expect(page.get_by_label("Card number")).to_have_value("4242424242424242")
    fan.measure("checkout")
    fan.shot("checkout")
    page.get_by_role("button", name=re.compile(r"^Pay 100\.00 EUR$")).click()

    # the confirmation, then the tickets the worker issues (the page refreshes)
    page.wait_for_url(re.compile(r".*/orders/\d+/\?placed=1$"))
    order_id = int(re.search(r"/orders/(\d+)/", page.url).group(1))
    expect(page.locator(".notice").first).to_contain_text("Thank you!")
    tickets = page.locator("#tickets img")
    expect(tickets).to_have_count(2, timeout=60_000)
    for index in range(2):
        image = tickets.nth(index)
        expect(image).to_have_attribute("alt", re.compile(r"^QR code of ticket "))
        image.scroll_into_view_if_needed()
        fan.wait_for_script(
            "img => img.complete && img.naturalWidth > 0", "a QR code", image
        )
    fan.measure("order confirmation")
    fan.shot("tickets")

    # the order is in "my orders"
    page.get_by_role("link", name="My orders").first.click()
    page.wait_for_url(f"{stack.url}/orders/")
    row = page.locator("#orders tbody tr").filter(has_text=f"No. {order_id}")
    expect(row).to_contain_text(event.name)
    expect(row).to_contain_text("Paid")
    fan.measure("my orders")
    fan.shot("my-orders")

    # and cancelled from its page
    row.get_by_role("link", name=f"No. {order_id}").click()
    page.get_by_role("link", name=re.compile(r"^Cancel this order")).click()
    page.wait_for_url(f"{stack.url}/orders/{order_id}/cancel/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Cancel order No. {order_id}?"
    )
    fan.shot("cancel-confirm")
    page.get_by_role("button", name=re.compile(r"^Yes, cancel and refund")).click()
    page.wait_for_url(f"{stack.url}/orders/{order_id}/")
    expect(page.locator("dd.state-cancelled")).to_have_text("Cancelled")
    expect(page.locator("#tickets")).to_have_count(0)
    fan.shot("cancelled")

    # then the database agrees with the pages, the worker refunds the order,
    # and the tickets went out by email too
    user = User.objects.get(email=email)
    order = Order.objects.get(pk=order_id)
    assert (order.user_id, order.state) == (user.pk, "cancelled")
    assert sorted(order.lines.values_list("seat__index", flat=True)) == [0, 1]
    wait_until(
        lambda: Order.objects.get(pk=order_id).refunded_amount == order.total,
        60,
        "the refund",
    )

    def tickets_mailed() -> list[str]:
        mails = [path.read_text() for path in (stack.folder / "mail").iterdir()]
        return [mail for mail in mails if email in mail and "tickets" in mail.lower()]

    wait_until(tickets_mailed, 60, "the tickets email")
