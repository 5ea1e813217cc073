"""POST /api/v1/payments/webhook: signatures, replays, the events it acts on."""

from __future__ import annotations

import contextlib
import json
import random
import time

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from onsale.orders.ledger_reconcile import fake_ledger_reconcile
from onsale.orders.models import Order
from onsale.payments import (
    PaymentDeclined,
    PaymentSource,
    PaymentTransientError,
    payment_gateway,
    payment_gateway_override,
)
from onsale.payments.fake.cards import DECLINE_CARD, SUCCESS_CARD
from onsale.payments.fake.models import FakeProviderCharge, FakeProviderEvent
from onsale.payments.models import WebhookReceipt
from onsale.payments.webhooks import webhook_signature
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import (
    Shopper,
    assert_error,
    seat_unavailable,
)
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/payments/webhook"


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
    from onsale.payments.fake.gateway import FakeGateway

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


# --- deliveries late, twice and out of order ------------------------------------


def _order_charged_unheard(event, *, card: str = SUCCESS_CARD) -> Order:
    """A pending order whose charge the provider made (or declined) but whose
    answer never reached checkout: only the webhooks will tell."""
    from onsale.checkout import services

    shopper = Shopper(event)
    taken = 2 * Order.objects.count()  # two fresh seats per order
    hold = shopper.hold(seat_ids(event)[taken : taken + 2])
    order = services.checkout_order_place(
        user=shopper.user,
        event_id=event.pk,
        hold_id=hold.hold_id,
        session_id=shopper.grant.claims.session_id,
        buyer=services.Buyer(name="A", email="a@example.test"),
        payment_token=f"tok_{card}",
    )
    with contextlib.suppress(PaymentDeclined):
        payment_gateway().charge(
            idempotency_key=order.payment_key,
            amount=order.total,
            currency=order.currency,
            source=PaymentSource(token=order.payment_token),
        )
    assert Order.objects.get(pk=order.pk).state == "pending"
    return order


def test_a_refund_delivered_before_its_charge_never_pays_the_order(event):
    # given a charge the provider made, then refunded from its dashboard,
    # neither of which checkout has heard of
    order = _order_charged_unheard(event)
    charge = FakeProviderCharge.objects.get(idempotency_key=order.payment_key)
    payment_gateway().refund_from_dashboard(charge_id=charge.id)
    succeeded = FakeProviderEvent.objects.get(type="charge.succeeded").id
    refunded = FakeProviderEvent.objects.get(type="charge.refunded").id

    # when the refund's webhook arrives first, then the charge's, then both again
    answers = [
        deliver(refunded),
        deliver(succeeded),
        deliver(succeeded),
        deliver(refunded),
    ]

    # then the order was never paid: the fan has the money back and the seats
    # are on sale again once the fan's hold goes; provider ledger and orders
    # agree
    assert [answer.json()["duplicate"] for answer in answers] == [
        False,
        False,
        True,
        True,
    ]
    order.refresh_from_db()
    assert (order.state, order.failure_reason) == ("failed", "refunded_by_provider")
    assert order.tickets.count() == 0
    assert SeatSale.objects.count() == 0
    seat_services.hold_release(
        event_id=order.event_id, hold_id=order.hold_id, user_id=order.user_id
    )
    assert not any(seat_unavailable(event, line.seat_id) for line in order.lines.all())
    assert fake_ledger_reconcile() == []


def test_webhooks_shuffled_and_duplicated_reconcile_with_zero_mismatches(event):
    # given 12 orders whose outcome only the webhooks carry: paid, declined,
    # and paid then refunded in the provider's dashboard
    rng = random.Random(20261121)
    paid, declined, refunded = [], [], []
    for number in range(12):
        if number % 3 == 1:
            declined.append(_order_charged_unheard(event, card=DECLINE_CARD))
            continue
        order = _order_charged_unheard(event)
        if number % 3 == 2:
            charge = FakeProviderCharge.objects.get(idempotency_key=order.payment_key)
            payment_gateway().refund_from_dashboard(charge_id=charge.id)
            refunded.append(order)
        else:
            paid.append(order)
    deliveries = list(FakeProviderEvent.objects.values_list("id", flat=True)) * 2
    rng.shuffle(deliveries)

    # when every event is delivered twice, in a random order
    fresh = [deliver(event_id).json()["duplicate"] is False for event_id in deliveries]

    # then each event was acted on once, and the ledger matches the orders
    assert sum(fresh) == len(deliveries) // 2
    states = dict(Order.objects.values_list("pk", "state"))
    assert {states[order.pk] for order in paid} == {"paid"}
    assert {states[order.pk] for order in declined} == {"failed"}
    assert {states[order.pk] for order in refunded} == {"failed"}
    assert all(Order.objects.get(pk=order.pk).tickets.count() == 2 for order in paid)
    assert SeatSale.objects.count() == 2 * len(paid)
    assert fake_ledger_reconcile() == []


def test_a_provider_outage_while_handling_fails_the_delivery_for_a_retry(event):
    # given a charge the provider made that checkout has not heard of
    order = _order_charged_unheard(event)
    succeeded = FakeProviderEvent.objects.get(type="charge.succeeded").id
    gateway = payment_gateway()

    class Unreachable(type(gateway)):  # type: ignore[misc]
        def charge_find(self, *, idempotency_key: str):
            raise PaymentTransientError("provider unreachable")

    # when its webhook arrives while the provider cannot be asked about it
    payment_gateway_override(
        Unreachable(webhook_secret=django_settings.PAYMENT_WEBHOOK_SECRET)
    )
    try:
        failed = deliver(succeeded)
    finally:
        payment_gateway_override(None)

    # then the delivery fails with a 503 and nothing is recorded, so the
    # provider's redelivery is handled in full
    assert_error(failed, 503, "webhook_provider_unavailable")
    assert WebhookReceipt.objects.count() == 0
    assert Order.objects.get(pk=order.pk).state == "pending"
    assert deliver(succeeded).json() == {"received": True, "duplicate": False}
    assert Order.objects.get(pk=order.pk).state == "paid"
    assert fake_ledger_reconcile() == []
