"""The checkout saga after a declined card: the fan keeps the hold for another
try, until its own time, and a hold has one live order at a time."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone

from onsale.checkout import services
from onsale.orders.exceptions import HoldAlreadyCheckedOut
from onsale.orders.models import Order, Ticket
from onsale.payments.fake.cards import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
)
from onsale.payments.fake.models import FakeProviderCharge
from onsale.platform.redis import redis_client
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import HoldExpired, SeatsUnavailable
from onsale.seatselection.keys import seat_state_keys
from onsale.seatselection.models import PriceCategory, SeatSale
from onsale.testutils.checkout import (
    Shopper,
    assert_error,
    checkout_body,
    ledger_for,
    seat_unavailable,
)
from onsale.testutils.seats import seat_ids

# Real commits: on-commit hooks (Redis marks, eager Celery tasks) run when
# the saga's transactions commit, in the order production runs them.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("card", "reason"),
    [(DECLINE_CARD, "card_declined"), (INSUFFICIENT_FUNDS_CARD, "insufficient_funds")],
)
def test_declined_card_leaves_no_order_but_keeps_the_hold_for_another_try(
    event, run_on_commit, mailoutbox, card, reason
):
    # given a fan holding two seats
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)

    # when their card is declined
    response = run_on_commit(shopper.checkout, hold.hold_id, card=card)

    # then the order failed and nothing was sold or charged
    body = assert_error(response, 422, "payment_declined")
    order = Order.objects.get()
    assert body["extra"] == {
        "order_id": order.pk,
        "state": "failed",
        "reason": reason,
        "hold_id": hold.hold_id,
        "hold_expires_at": hold.expires_at.isoformat(),
    }
    assert (order.state, order.failure_reason, order.live_hold_id) == (
        "failed",
        reason,
        None,
    )
    assert SeatSale.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert mailoutbox == []
    assert [c.status for c in ledger_for(order.pk)] == ["failed"]
    # but the fan still holds the seats, with the hold's own expiry: nobody
    # else can take them
    assert all(seat_unavailable(event, seat) for seat in seats)
    kept = seat_services.hold_confirm(
        event_id=event.pk, hold_id=hold.hold_id, user_id=shopper.user.pk
    )
    assert (kept.seat_ids, kept.expires_at) == (hold.seat_ids, hold.expires_at)
    with pytest.raises(SeatsUnavailable):
        Shopper(event).hold(seats)


def test_after_a_decline_the_same_hold_is_paid_once_with_a_new_key(
    event, run_on_commit, mailoutbox
):
    # given a fan whose card was declined under one key
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)
    declined = run_on_commit(
        shopper.checkout, hold.hold_id, card=DECLINE_CARD, key="k1"
    )
    assert_error(declined, 422, "payment_declined")

    # when they retry the same seats with another card and a new key
    paid = run_on_commit(shopper.checkout, hold.hold_id, key="k2")

    # then that order is paid, charged exactly once, and the hold is retired
    assert paid.status_code == 201, paid.content
    order = Order.objects.get(pk=paid.json()["id"])
    assert (order.state, order.hold_id) == ("paid", hold.hold_id)
    assert [c.status for c in ledger_for(order.pk)] == ["succeeded"]
    assert FakeProviderCharge.objects.filter(status="succeeded").count() == 1
    assert Order.objects.filter(state="failed").count() == 1
    assert sorted(SeatSale.objects.values_list("seat_id", flat=True)) == seats
    assert len(mailoutbox) == 1
    with pytest.raises(HoldExpired):
        seat_services.hold_confirm(
            event_id=event.pk, hold_id=hold.hold_id, user_id=shopper.user.pk
        )
    assert all(seat_unavailable(event, seat) for seat in seats)
    # a replay of the declined key answers the same decline, charging nothing
    again = shopper.client.post(
        "/api/v1/checkout",
        checkout_body(hold.hold_id, card=DECLINE_CARD),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
        HTTP_X_ACCESS_TOKEN=shopper.token,
    )
    assert again.status_code == 422
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == declined.json()
    assert FakeProviderCharge.objects.count() == 2


def test_repeated_declines_never_keep_a_hold_past_its_own_time(
    event, run_on_commit, settings
):
    # given a hold that lives two seconds (checkout extends it to two minutes
    # while a payment runs)
    settings.SEAT_HOLD_SECONDS = 2
    shopper = Shopper(event)
    seats = seat_ids(event)[:1]
    hold = shopper.hold(seats)

    # when every attempt is declined
    for _ in range(2):
        response = run_on_commit(shopper.checkout, hold.hold_id, card=DECLINE_CARD)
        assert (
            response.json()["extra"]["hold_expires_at"] == hold.expires_at.isoformat()
        )

    # then the hold still ends at its own time and the seat is free again
    time.sleep(max(0.0, (hold.expires_at - timezone.now()).total_seconds()) + 0.2)
    assert not seat_unavailable(event, seats[0])
    assert_error(run_on_commit(shopper.checkout, hold.hold_id), 409, "hold_expired")
    assert SeatSale.objects.count() == 0
    assert Shopper(event).hold(seats).seat_ids == tuple(seats)


def test_a_decline_after_the_hold_ran_out_frees_the_seats(
    event, run_on_commit, settings
):
    # given a pending order whose hold has run out of its own time while the
    # payment was extended past it
    settings.SEAT_HOLD_SECONDS = 30
    shopper = Shopper(event)
    seats = seat_ids(event)[:1]
    hold = shopper.hold(seats)
    order = services.checkout_order_place(
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=services.Buyer(name="Ada", email="ada@example.test"),
        payment_token=f"tok_{DECLINE_CARD}",
    )
    _hold_own_expiry_passed(event.pk, hold.hold_id)

    # when the charge is declined
    result = services.checkout_charge_attempt(order_id=order.pk, timeout=None)

    # then the hold is gone and the seat is on sale again
    assert (result.outcome, result.hold_expires_at) == ("failed", None)
    assert not seat_unavailable(event, seats[0])
    assert Shopper(event).hold(seats).seat_ids == tuple(seats)


def _hold_own_expiry_passed(event_id: int, hold_id: int) -> None:
    """Move the hold's own expiry (saved when checkout extended it) into the
    past, as if its time ran out during the payment."""

    holds_key = seat_state_keys(event_id)[7]
    client = redis_client(decode=True)
    stored = json.loads(client.hget(holds_key, str(hold_id)))
    assert "o" in stored
    stored["o"] = str(int(time.time() * 1000) - 1000)
    client.hset(holds_key, str(hold_id), json.dumps(stored))


def test_a_hold_has_one_live_order_at_a_time(event, run_on_commit):
    # given a general-admission hold (no seat row to collide on) with a
    # pending order
    shopper = Shopper(event)
    hold = shopper.hold(category="GA", quantity=2)
    place = {
        "user": shopper.user,
        "event_id": event.pk,
        "hold_id": hold.hold_id,
        "session_id": shopper.grant.claims.session_id,
        "buyer": services.Buyer(name="Ada", email="ada@example.test"),
        "payment_token": f"tok_{DECLINE_CARD}",
    }
    first = services.checkout_order_place(**place)

    # when the same hold is checked out again, it is refused
    with pytest.raises(HoldAlreadyCheckedOut) as refused:
        services.checkout_order_place(**place)
    assert refused.value.extra == {"order_id": first.pk}
    assert Order.objects.count() == 1
    assert PriceCategory.objects.get(event=event, code="GA").ga_sold == 2

    # and once that order failed, the kept hold may be checked out again
    services.checkout_charge_attempt(order_id=first.pk, timeout=None)
    second = services.checkout_order_place(**place)
    assert second.pk != first.pk
    assert PriceCategory.objects.get(event=event, code="GA").ga_sold == 2
