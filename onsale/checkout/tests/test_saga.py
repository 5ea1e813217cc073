"""The checkout saga through POST /api/v1/checkout: happy path, timeouts,
retries, races, stale holds (declines: test_saga_declines.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.checkout import services
from onsale.checkout import tasks as checkout_tasks
from onsale.checkout.models import IdempotencyRecord
from onsale.orders import fulfilment, refunds
from onsale.orders import tasks as order_tasks
from onsale.orders.models import Order, Ticket
from onsale.payments.fake.cards import (
    TIMEOUT_CARD,
)
from onsale.payments.fake.models import FakeProviderCharge
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import PriceCategory, SeatSale
from onsale.testutils.checkout import (
    Shopper,
    assert_error,
    checkout_body,
    ledger_for,
    seat_unavailable,
    seated_event,
)
from onsale.testutils.seats import seat_ids
from onsale.waitingroom.access import access_token_verify
from onsale.waitingroom.exceptions import AccessSessionEnded

# Real commits: on-commit hooks (Redis marks, eager Celery tasks) run when
# the saga's transactions commit, in the order production runs them.
pytestmark = pytest.mark.django_db(transaction=True)


def test_happy_path_from_hold_to_emailed_tickets(event, run_on_commit, mailoutbox):
    # given an admitted fan holding two stalls seats and one balcony seat
    shopper = Shopper(event)
    stalls, balcony = (
        seat_ids(event, category="A")[:2],
        seat_ids(event, category="B")[:1],
    )
    hold = shopper.hold(stalls + balcony)
    body = checkout_body(hold.hold_id)
    body["lines"] = [{"seat_id": stalls[0], "price": "0.01"}]  # ignored: server prices
    body["total"] = "0.03"

    # when they check out
    response = run_on_commit(shopper.checkout, hold.hold_id, body=body)

    # then the order is paid at the server's prices
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "paid"
    assert data["total"] == "130.50"
    assert sorted(line["price"] for line in data["lines"]) == [
        "30.50",
        "50.00",
        "50.00",
    ]
    order = Order.objects.get(pk=data["id"])
    assert (order.user, order.hold_id, order.state) == (
        shopper.user,
        hold.hold_id,
        "paid",
    )
    # one seat sale per seat, marked sold in Redis
    assert sorted(SeatSale.objects.values_list("seat_id", flat=True)) == sorted(
        stalls + balcony
    )
    assert all(seat_unavailable(event, seat) for seat in stalls + balcony)
    # exactly one charge of the total
    [charge] = ledger_for(order.pk)
    assert (charge.amount, charge.status, charge.id) == (
        Decimal("130.50"),
        "succeeded",
        order.charge_id,
    )
    # tickets issued with unique codes, PDF stored, one email with the PDF
    tickets = list(order.tickets.all())
    assert len(tickets) == 3 and len({t.code for t in tickets}) == 3
    assert order.pdf.name.endswith(".pdf")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ada@example.test"]
    assert all(ticket.code in mail.body for ticket in tickets)
    [(filename, content, mimetype)] = mail.attachments
    assert (filename, mimetype) == (f"tickets-order-{order.pk}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    # the shopping session is over: the waiting room slot is free
    with pytest.raises(AccessSessionEnded):
        access_token_verify(
            token=shopper.token, user_id=shopper.user.pk, event_id=event.pk
        )
    # and the order page now shows the tickets
    detail = shopper.client.get(f"/api/v1/orders/{order.pk}").json()
    assert {line["ticket"]["code"] for line in detail["lines"]} == {
        t.code for t in tickets
    }
    assert detail["pdf_url"] == f"/api/v1/orders/{order.pk}/tickets.pdf"


def test_timeout_card_ends_failed_with_the_charge_refunded_and_seats_free(
    event, run_on_commit, mailoutbox
):
    shopper = Shopper(event)
    seats = seat_ids(event)[:1]
    hold = shopper.hold(seats)

    response = run_on_commit(shopper.checkout, hold.hold_id, card=TIMEOUT_CARD)

    # the API could not learn the outcome in time: 202, pending, and the fan
    # is told the payment is being confirmed with the bank; poll
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "pending"
    assert response.json()["payment_status"]["code"] == "payment_confirming"
    # the retry task kept timing out and compensated
    order = Order.objects.get()
    assert (order.state, order.failure_reason) == ("failed", "payment_timeout")
    [charge] = ledger_for(order.pk)
    assert charge.status == "succeeded" and charge.amount_refunded == charge.amount
    assert order.refunded_amount == charge.amount
    assert SeatSale.objects.count() == 0 and Ticket.objects.count() == 0
    # no tickets; one email says the charge that did go through was refunded
    assert [mail.subject for mail in mailoutbox] == [
        f"Your refund for order {order.pk} ({event.name})"
    ]
    # the fan keeps the hold to try again; released, the seat is free
    assert seat_unavailable(event, seats[0])
    seat_services.hold_release(
        event_id=event.pk, hold_id=hold.hold_id, user_id=shopper.user.pk
    )
    assert not seat_unavailable(event, seats[0])


def test_a_charge_of_unknown_outcome_shows_the_fan_it_is_being_confirmed(
    event, run_on_commit
):
    # given a pending order paid with the card whose charge never answers
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    order = services.checkout_order_place(
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=services.Buyer(name="Ada", email="ada@example.test"),
        payment_token=f"tok_{TIMEOUT_CARD}",
    )
    page = Client()
    page.force_login(shopper.user)

    def status():
        return shopper.client.get(f"/api/v1/orders/{order.pk}").json()

    assert status()["payment_status"] == {
        "code": "payment_processing",
        "message": "Your payment is being processed.",
    }

    # when the first charge attempt times out
    result = services.checkout_charge_attempt(order_id=order.pk, timeout=0.1)

    # then the status API and the order page say the bank is being asked
    assert result.outcome == "pending"
    pending = status()
    assert pending["state"] == "pending"
    assert pending["payment_status"]["code"] == "payment_confirming"
    assert pending["payment_status"]["message"].startswith(
        "We are confirming your payment with the bank."
    )
    html = page.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-code="payment_confirming"' in html
    assert "We are confirming your payment with the bank." in html

    # and when the retries give up, both show the final result, one charge
    # made and refunded
    run_on_commit(checkout_tasks.checkout_charge_resolve.delay, order.pk)
    final = status()
    assert (final["state"], final["payment_status"]["code"]) == (
        "failed",
        "payment_failed",
    )
    assert "did not confirm the payment in time" in final["payment_status"]["message"]
    html = page.get(f"/orders/{order.pk}/").content.decode()
    assert "did not confirm the payment in time" in html
    assert "payment_confirming" not in html
    [charge] = ledger_for(order.pk)
    assert charge.amount_refunded == charge.amount


def test_a_ticket_task_failing_once_ends_with_one_charge_and_one_ticket_set(
    event, run_on_commit, monkeypatch, mailoutbox
):
    # given the ticket step dies once after the charge (a worker killed)
    real_issue = fulfilment.order_tickets_issue
    calls = {"n": 0}

    def flaky_issue(*, order_id):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("worker lost")
        return real_issue(order_id=order_id)

    monkeypatch.setattr(fulfilment, "order_tickets_issue", flaky_issue)
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:3])

    response = run_on_commit(shopper.checkout, hold.hold_id)

    assert response.status_code == 201
    order = Order.objects.get()
    assert calls["n"] == 2
    assert len(ledger_for(order.pk)) == 1
    assert order.tickets.count() == 3
    assert len(mailoutbox) == 1
    # and delivering every step again changes nothing
    assert (
        services.checkout_charge_attempt(order_id=order.pk, timeout=None).outcome
        == "paid"
    )
    run_on_commit(order_tasks.order_fulfil.delay, order.pk)
    assert len(ledger_for(order.pk)) == 1
    assert order.tickets.count() == 3
    assert len(mailoutbox) == 1


def test_charge_step_run_twice_charges_once(event, run_on_commit):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    order = run_on_commit(
        services.checkout_order_place,
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=services.Buyer(name="A", email="a@example.test"),
        payment_token="tok_4242424242424242",
    )
    first = run_on_commit(
        services.checkout_charge_attempt, order_id=order.pk, timeout=None
    )
    second = run_on_commit(
        services.checkout_charge_attempt, order_id=order.pk, timeout=None
    )
    assert (first.outcome, second.outcome) == ("paid", "paid")
    assert FakeProviderCharge.objects.count() == 1
    assert Ticket.objects.filter(order=order).count() == 1


def test_fifty_concurrent_checkouts_of_one_hold_make_one_order():
    event = seated_event()
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)
    barrier = threading.Barrier(50)

    def attempt(number: int):
        client = APIClient()
        client.force_authenticate(shopper.user)
        barrier.wait()
        try:
            response = client.post(
                "/api/v1/checkout",
                checkout_body(hold.hold_id),
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"key-{number}",
                HTTP_X_ACCESS_TOKEN=shopper.token,
            )
            return response.status_code, response.json().get("code")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))

    assert [status for status, _ in outcomes].count(201) == 1
    refused = {(status, code) for status, code in outcomes if status != 201}
    assert refused <= {
        (409, "hold_expired"),
        (409, "seat_already_sold"),
        (409, "hold_already_checked_out"),
        (401, "access_session_ended"),
    }
    order = Order.objects.get()
    assert order.state == "paid"
    assert sorted(SeatSale.objects.values_list("seat_id", flat=True)) == seats
    assert FakeProviderCharge.objects.count() == 1
    # requests that were refused left no idempotency record behind
    assert IdempotencyRecord.objects.count() == 1


def test_a_stale_hold_cannot_be_checked_out(event, run_on_commit, settings):
    # given A's hold expired and B holds the same seat under a newer hold id
    seats = seat_ids(event)[:1]
    first, second = Shopper(event), Shopper(event)
    stale = first.hold(seats)
    from onsale.seatselection import services as seat_services

    seat_services.hold_release(
        event_id=event.pk, hold_id=stale.hold_id, user_id=first.user.pk
    )
    current = second.hold(seats)
    assert current.hold_id > stale.hold_id

    # when A checks out with the old hold id
    response = run_on_commit(first.checkout, stale.hold_id)

    # then it is refused and nothing is written
    assert_error(response, 409, "hold_expired")
    assert Order.objects.count() == 0 and SeatSale.objects.count() == 0
    assert FakeProviderCharge.objects.count() == 0
    # and B can still buy it
    assert run_on_commit(second.checkout, current.hold_id).status_code == 201


def test_an_expired_hold_cannot_be_checked_out(event, run_on_commit, settings):

    settings.SEAT_HOLD_SECONDS = 1
    seats = seat_ids(event)[:1]
    first, second = Shopper(event), Shopper(event)
    stale = first.hold(seats)
    time.sleep(1.2)
    # The second hold lives as long as usual: both checkouts below may take
    # more than a second on a busy machine.
    settings.SEAT_HOLD_SECONDS = 600
    current = second.hold(seats)
    response = run_on_commit(first.checkout, stale.hold_id)
    assert_error(response, 409, "hold_expired")
    assert Order.objects.count() == 0
    assert run_on_commit(second.checkout, current.hold_id).status_code == 201


def test_a_seat_sold_in_mysql_is_never_sold_again_even_if_redis_forgot(
    event, run_on_commit
):
    # given a sale in MySQL that Redis does not know about (lost write)
    seats = seat_ids(event)[:2]
    shopper = Shopper(event)
    hold = shopper.hold(seats)
    SeatSale.objects.create(
        event=event, seat_id=seats[1], user=shopper.user, hold_id=1, order_reference="x"
    )

    response = run_on_commit(shopper.checkout, hold.hold_id)

    assert_error(response, 409, "seat_already_sold")
    assert Order.objects.count() == 0
    assert list(SeatSale.objects.values_list("seat_id", flat=True)) == [seats[1]]
    assert FakeProviderCharge.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_someone_elses_hold_cannot_be_checked_out(event, run_on_commit):
    owner, thief = Shopper(event), Shopper(event)
    hold = owner.hold(seat_ids(event)[:1])
    assert_error(run_on_commit(thief.checkout, hold.hold_id), 409, "hold_expired")
    assert Order.objects.count() == 0


def test_access_token_is_required_and_checked(event, run_on_commit):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    assert_error(
        run_on_commit(shopper.checkout, hold.hold_id, token=""),
        401,
        "access_token_required",
    )
    other_event = seated_event()
    wrong = Shopper(other_event, user=shopper.user)
    response = run_on_commit(
        shopper.checkout,
        hold.hold_id,
        token=wrong.token,
        body=checkout_body(hold.hold_id, event_id=event.pk),
    )
    assert_error(response, 401, "access_token_invalid")
    assert_error(
        run_on_commit(shopper.checkout, hold.hold_id, token="not-a-jwt"),
        401,
        "access_token_invalid",
    )
    assert Order.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    anonymous = APIClient().post(
        "/api/v1/checkout",
        checkout_body(hold.hold_id),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {
            "hold_id": "x",
            "payment": {"card_number": "4242424242424242"},
            "buyer": {"name": "A", "email": "a@example.test"},
        },
        {
            "hold_id": 1,
            "payment": {},
            "buyer": {"name": "A", "email": "a@example.test"},
        },
        {
            "hold_id": 1,
            "payment": {"card_number": "4242424242424242", "token": "tok_x"},
            "buyer": {"name": "A", "email": "a@example.test"},
        },
        {
            "hold_id": 1,
            "payment": {"card_number": "4242424242424242"},
            "buyer": {"name": "A", "email": "nope"},
        },
    ],
)
def test_invalid_bodies_are_400_and_write_nothing(event, body):
    shopper = Shopper(event)
    response = shopper.client.post(
        "/api/v1/checkout",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
        HTTP_X_ACCESS_TOKEN=shopper.token,
    )
    assert_error(response, 400, "invalid")
    assert Order.objects.count() == 0 and IdempotencyRecord.objects.count() == 0


def test_general_admission_places_are_priced_sold_and_given_back(event, run_on_commit):
    shopper = Shopper(event)
    hold = shopper.hold(category="GA", quantity=3)
    response = run_on_commit(shopper.checkout, hold.hold_id)
    assert response.status_code == 201
    assert response.json()["total"] == "75.00"
    assert PriceCategory.objects.get(event=event, code="GA").ga_sold == 3
    order = Order.objects.get()
    run_on_commit(refunds.order_cancel, order=order)
    assert PriceCategory.objects.get(event=event, code="GA").ga_sold == 0
    from onsale.seatselection.selectors import availability_snapshot

    assert availability_snapshot(event_id=event.pk).general_admission["GA"] == 100


def test_unpaid_orders_expire_and_release_their_seats(event, run_on_commit):
    from datetime import timedelta

    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)
    order = run_on_commit(
        services.checkout_order_place,
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id="s",
        buyer=services.Buyer(name="A", email="a@example.test"),
        payment_token="tok_4242424242424242",
    )
    # the hold runs out long before an unpaid order expires; the seats stay
    # taken (sold in Redis) while the order is pending
    seat_services.hold_release(
        event_id=event.pk, hold_id=hold.hold_id, user_id=shopper.user.pk
    )
    assert all(seat_unavailable(event, seat) for seat in seats)
    # not yet due: nothing happens
    assert run_on_commit(order_tasks.orders_expire_pending) == 0
    Order.objects.filter(pk=order.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert run_on_commit(order_tasks.orders_expire_pending) == 1

    order.refresh_from_db()
    assert (order.state, order.failure_reason) == ("expired", "expired")
    assert SeatSale.objects.count() == 0
    assert not any(seat_unavailable(event, seat) for seat in seats)
    # a charge that lands after the expiry is refunded, never kept
    result = run_on_commit(
        services.checkout_charge_attempt, order_id=order.pk, timeout=None
    )
    assert result.outcome == "failed"
    assert FakeProviderCharge.objects.count() == 0


def test_a_broker_outage_after_payment_still_answers_201_and_the_sweep_fulfils(
    event, monkeypatch, mailoutbox
):
    from datetime import timedelta

    from kombu.exceptions import OperationalError as BrokerDown

    def broker_down(*args, **kwargs):
        raise BrokerDown("broker unreachable")

    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    with monkeypatch.context() as patch:
        patch.setattr(order_tasks.order_fulfil, "delay", broker_down)
        response = shopper.checkout(hold.hold_id)

    # the sale stands: paid, seats sold, but no tickets yet
    assert response.status_code == 201
    order = Order.objects.get()
    assert (order.state, order.tickets.count(), order.tickets_issued_at) == (
        "paid",
        0,
        None,
    )
    # too recent for the sweep
    assert order_tasks.orders_fulfil_sweep() == 0
    Order.objects.filter(pk=order.pk).update(
        paid_at=timezone.now() - timedelta(minutes=2)
    )

    assert order_tasks.orders_fulfil_sweep() == 1

    order.refresh_from_db()
    assert order.tickets.count() == 2 and order.emailed_at is not None
    assert len(mailoutbox) == 1
    assert order_tasks.orders_fulfil_sweep() == 0
