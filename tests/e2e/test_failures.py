"""What a fan meets when something goes wrong, in the browser: a declined
card, a hold that runs out, a seat someone else just took, a shopping session
that has ended. Each page must say what happened and offer the way on."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from onsale.orders.models import Order
from onsale.payments.fake.cards import DECLINE_CARD, SUCCESS_CARD, TIMEOUT_CARD
from onsale.seatselection import services as seat_services
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.waitingroom.admission import waitingroom_live_config_push
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.services import admission_session_start, queue_position_get
from tests.e2e.conftest import (
    TAKEN_RGB,
    Fan,
    event_on_sale,
    fan_on_seat_map,
    seat_pick,
    seat_pixel,
    wait_for_seat_state,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _hold_seats(fan: Fan, indexes: list[int]) -> None:
    page = fan.page
    for index in indexes:
        seat_pick(fan, index)
    page.get_by_role("button", name="Hold selected seats").click()
    expect(page.locator("#seats-held-list li")).to_have_count(len(indexes))


def test_a_declined_card_keeps_the_seats_for_another_card(stack, fans):
    event = event_on_sale(organizer=OrganizerFactory())
    user = UserFactory()
    fan = fans(stack.url, "phone", "declined")
    fan_on_seat_map(fan, event, user.email)
    page = fan.page
    _hold_seats(fan, [12, 13])
    page.get_by_role("link", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/\d+/\d+/$"))

    fan.expect_error("/api/v1/checkout")
    page.get_by_label("Name").fill("Grace Fan")
    page.get_by_label("Card number").fill(DECLINE_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    error = page.locator("#checkout-error")
    expect(error).to_contain_text("Your card was declined.")
    expect(error).to_contain_text("Your seats are still held for you")
    expect(error).to_be_focused()
    fan.shot("declined")
    # the seats are still the fan's: pay again with another card
    pay = page.get_by_role("button", name=re.compile(r"^Pay "))
    expect(pay).to_be_enabled()
    page.get_by_label("Card number").fill(SUCCESS_CARD)
    pay.click()
    page.wait_for_url(re.compile(r".*/orders/\d+/\?placed=1$"))
    fan.shot("paid-after-decline")
    assert sorted(Order.objects.values_list("state", "failure_reason")) == [
        ("failed", "card_declined"),
        ("paid", ""),
    ]


def test_a_charge_of_unknown_outcome_says_the_bank_is_asked_then_the_result(
    stack, fans
):
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(stack.url, "desktop", "confirming")
    fan_on_seat_map(fan, event, UserFactory().email)
    page = fan.page
    _hold_seats(fan, [40])
    page.get_by_role("link", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/\d+/\d+/$"))

    page.get_by_label("Name").fill("Lin Fan")
    page.get_by_label("Card number").fill(TIMEOUT_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    # within a few seconds the page says what is happening, and stays
    busy = page.locator("#checkout-busy")
    expect(busy).to_contain_text(
        "We are confirming your payment with the bank", timeout=10_000
    )
    expect(busy).to_have_attribute("data-code", "payment_confirming")
    fan.shot("confirming")
    # it polls until the saga gives up, then shows the result and the way on
    error = page.locator("#checkout-error")
    expect(error).to_contain_text(
        "did not confirm the payment in time", timeout=180_000
    )
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_be_enabled()
    fan.shot("confirming-failed")
    assert list(Order.objects.values_list("state", "failure_reason")) == [
        ("failed", "payment_timeout")
    ]


def test_a_hold_that_runs_out_cannot_be_paid(stack, fans):
    # a gunicorn of the same stack whose holds last five seconds
    short = stack.server(SEAT_HOLD_SECONDS="5")
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(short, "desktop", "hold-expired")
    fan_on_seat_map(fan, event, UserFactory().email)
    page = fan.page
    _hold_seats(fan, [20])
    page.get_by_role("link", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/\d+/\d+/$"))

    error = page.locator("#checkout-error")
    expect(error).to_contain_text("Your hold has expired", timeout=15_000)
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_be_disabled()
    expect(error.get_by_role("link", name="Back to the seat map")).to_be_visible()
    fan.shot("checkout-expired")

    # the server agrees: the checkout page of that hold says it is gone
    fan.expect_error("/checkout/", 409)
    page.reload()
    expect(page.locator("p.errors")).to_contain_text("expired")
    fan.shot("checkout-reloaded")
    assert Order.objects.count() == 0


def test_a_seat_just_taken_by_someone_else_leaves_the_selection(stack, fans):
    event = event_on_sale(organizer=OrganizerFactory())
    fan = fans(stack.url, "desktop", "seat-taken")
    fan_on_seat_map(fan, event, UserFactory().email)
    page = fan.page
    seat_pick(fan, 33)
    expect(page.locator("#seats-selection li")).to_have_count(1)

    # another fan holds that seat first
    rival = UserFactory()
    grant = admission_session_start(event_id=event.pk, user_id=rival.pk)
    seat_id = event.seats.get(index=33).pk
    seat_services.hold_create(
        event_id=event.pk,
        user_id=rival.pk,
        session_id=grant.claims.session_id,
        session_expires_at=grant.claims.expires_at,
        seat_ids=[seat_id],
    )

    alert = page.locator("#seats-alert")
    expect(alert).to_contain_text("was just taken by someone else")
    wait_for_seat_state(page, 33, "taken")
    assert seat_pixel(page, 33) == TAKEN_RGB
    expect(page.locator("#seats-selection li")).to_have_count(0)
    expect(page.get_by_role("button", name="Hold selected seats")).to_be_disabled()
    fan.shot("seat-taken")
    seat_pick(fan, 33)
    expect(page.locator("#seats-status")).to_contain_text("is taken")


def test_an_ended_shopping_session_sends_the_fan_back_to_the_waiting_room(stack, fans):
    organizer = OrganizerFactory()
    event = event_on_sale(organizer=organizer)
    # Sessions of a few seconds (below what the organizer API allows), so the
    # test need not wait a minute: set on the model and pushed live.
    config = WaitingRoomConfig.objects.get(event=event)
    config.session_seconds = 6
    config.version += 1
    config.save()
    waitingroom_live_config_push(config=config)

    fan = fans(stack.url, "phone", "session-ended")
    user = UserFactory()
    fan_on_seat_map(fan, event, user.email)
    page = fan.page
    fan.expect_error("/holds")
    seat_pick(fan, 40)
    _wait_for_session_end(event, user)
    page.get_by_role("button", name="Hold selected seats").click()

    access = page.locator("#seats-access")
    expect(access).to_be_visible()
    expect(page.locator("#seats-alert")).to_contain_text("session")
    fan.shot("session-ended")
    access.get_by_role("link", name="Go to the waiting room").click()
    page.wait_for_url(f"{stack.url}/events/{event.pk}/queue")
    expect(page.locator("#queue-live")).to_contain_text("Your turn has passed")
    fan.shot("queue-turn-passed")


def _wait_for_session_end(event: Any, user: Any) -> None:
    """Until the waiting room reports the fan's session as over."""

    def over() -> bool:
        position = queue_position_get(event_id=event.pk, user_id=user.pk)
        return position.state == "expired"

    wait_until(over, 30, "the end of the shopping session")
