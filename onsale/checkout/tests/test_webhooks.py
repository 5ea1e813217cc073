"""POST /api/v1/payments/webhook: signatures, replays, the events it acts on."""

from __future__ import annotations

import json
import time

import pytest
from rest_framework.test import APIClient

from onsale.checkout.models import FakeProviderCharge, FakeProviderEvent, WebhookReceipt
from onsale.checkout.payments import PaymentTransientError, payment_gateway
from onsale.checkout.payments.webhooks import webhook_signature
from onsale.checkout.tests.helpers import (
    Shopper,
    assert_error,
    seat_ids,
    seat_unavailable,
    seated_event,
)
from onsale.orders.models import Order
from onsale.seatselection.models import SeatSale

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/payments/webhook"


@pytest.fixture
def event(transactional_db):
    return seated_event()


def deliver(event_id: str, **kwargs):
    payload, headers = payment_gateway().webhook_request(event_id=event_id, **kwargs)
    return APIClient().generic(
        "POST",
        URL,
        payload,
        content_type="application/json",
        **{
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in headers.items()
            if name != "Content-Type"
        },
    )


def paid_order(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    assert shopper.checkout(hold.hold_id).status_code == 201
    return Order.objects.get(user=shopper.user)


def test_a_forged_signature_is_rejected_and_changes_nothing(event, settings):
    order = paid_order(event)
    forged = json.dumps(
        {
            "id": "evt_forged",
            "type": "charge.refunded",
            "created": int(time.time()),
            "data": {
                "charge_id": order.charge_id,
                "amount": str(order.total),
                "amount_refunded": str(order.total),
            },
        }
    ).encode()
    client = APIClient()
    signed_elsewhere = webhook_signature(
        secret="attacker-secret", payload=forged, timestamp=int(time.time())
    )
    for header in (signed_elsewhere, "", "t=1,v1=00"):
        extra = {"HTTP_ONSALE_SIGNATURE": header} if header else {}
        response = client.generic(
            "POST", URL, forged, content_type="application/json", **extra
        )
        assert_error(response, 403, "webhook_signature_invalid")
    order.refresh_from_db()
    assert order.state == "paid"
    assert WebhookReceipt.objects.count() == 0
    assert SeatSale.objects.count() == 2


def test_a_signature_outside_the_replay_window_is_rejected(event):
    order = paid_order(event)
    refund = payment_gateway().refund_from_dashboard(charge_id=order.charge_id)
    event_id = FakeProviderEvent.objects.get(
        type="charge.refunded", data__refund_id=refund.id
    ).id
    response = deliver(event_id, timestamp=int(time.time()) - 301)
    assert_error(response, 403, "webhook_signature_invalid")
    order.refresh_from_db()
    assert order.state == "paid"


def test_a_dashboard_refund_refunds_the_order_once_and_replays_are_ignored(event):
    order = paid_order(event)
    seats = list(order.lines.values_list("seat_id", flat=True))
    refund = payment_gateway().refund_from_dashboard(charge_id=order.charge_id)
    event_id = FakeProviderEvent.objects.get(
        type="charge.refunded", data__refund_id=refund.id
    ).id

    first = deliver(event_id)
    replay = deliver(event_id)

    assert first.json() == {"received": True, "duplicate": False}
    assert replay.json() == {"received": True, "duplicate": True}
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("refunded", order.total)
    assert SeatSale.objects.count() == 0
    assert all(ticket.voided_at is not None for ticket in order.tickets.all())
    assert not any(seat_unavailable(event, seat) for seat in seats)
    assert WebhookReceipt.objects.count() == 1


def test_charge_succeeded_settles_an_order_whose_charge_timed_out(event, settings):
    # given the charge timed out for the API and the retries have not run yet
    settings.CHECKOUT_CHARGE_MAX_RETRIES = 0
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    from onsale.checkout import services

    order = services.checkout_order_place(
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id="s",
        buyer=services.Buyer(name="A", email="a@example.test"),
        payment_token="tok_4242424242424242",
    )
    gateway = payment_gateway()
    from onsale.checkout.payments.fake import FakeGateway

    assert isinstance(gateway, FakeGateway)
    flaky = FakeGateway(webhook_secret=settings.PAYMENT_WEBHOOK_SECRET, fault_rate=1.0)
    import random

    flaky.rng = random.Random(1)  # first draw: a fault, second: after charging
    while True:
        try:
            flaky.charge(
                idempotency_key=order.payment_key,
                amount=order.total,
                currency="EUR",
                source=services.PaymentSource(token=order.payment_token),
            )
        except PaymentTransientError:
            if FakeProviderCharge.objects.exists():
                break
    assert Order.objects.get(pk=order.pk).state == "pending"
    succeeded = FakeProviderEvent.objects.get(type="charge.succeeded").id

    # when the provider's webhook arrives
    assert deliver(succeeded).json() == {"received": True, "duplicate": False}

    # then the order is paid with that charge and fulfilled
    order.refresh_from_db()
    assert order.state == "paid"
    assert order.charge_id == FakeProviderCharge.objects.get().id
    assert order.tickets.count() == 1
    assert seat_unavailable(event, hold.seat_ids[0])
    assert SeatSale.objects.filter(order_reference=str(order.pk)).count() == 1


def test_a_malformed_but_signed_body_is_422(event, settings):
    payload = b'{"id": "evt_x"}'
    header = webhook_signature(
        secret=settings.PAYMENT_WEBHOOK_SECRET,
        payload=payload,
        timestamp=int(time.time()),
    )
    response = APIClient().generic(
        "POST",
        URL,
        payload,
        content_type="application/json",
        HTTP_ONSALE_SIGNATURE=header,
    )
    assert_error(response, 422, "webhook_malformed")
    assert WebhookReceipt.objects.count() == 0
