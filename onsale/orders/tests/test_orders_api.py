"""Orders API: owner-only reads (IDOR), tickets as QR and PDF, cancellation
within the refund policy, the organizer's sales view."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.checkout.tests.helpers import (
    Shopper,
    assert_error,
    seat_ids,
    seat_unavailable,
    seated_event,
)
from onsale.orders.models import Order, RefundPolicy
from onsale.orders.refunds import refund_policy_set
from onsale.payments.fake.cards import DECLINE_CARD
from onsale.payments.fake.models import FakeProviderCharge, FakeProviderRefund
from onsale.platform.redis import redis_client
from onsale.seatselection.keys import seat_changes_channel
from onsale.seatselection.models import Seat, SeatSale
from onsale.usermgmt.tests.factories import OrganizerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def event(transactional_db):
    return seated_event()


def buy(event, seats, *, card=None):
    shopper = Shopper(event)
    hold = shopper.hold(seats)
    kwargs = {"card": card} if card else {}
    response = shopper.checkout(hold.hold_id, **kwargs)
    order = Order.objects.filter(user=shopper.user).first()
    return shopper, order, response


def test_orders_are_listed_and_shown_to_their_owner_only(event):
    shopper, order, _ = buy(event, seat_ids(event)[:2])
    listed = shopper.client.get("/api/v1/orders").json()["results"]
    assert [item["id"] for item in listed] == [order.pk]
    detail = shopper.client.get(f"/api/v1/orders/{order.pk}")
    assert detail.status_code == 200
    assert detail.json()["state"] == "paid" and len(detail.json()["lines"]) == 2

    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get("/api/v1/orders").json() == {"results": []}
    ticket = order.tickets.first()
    for url in (
        f"/api/v1/orders/{order.pk}",
        f"/api/v1/orders/{order.pk}/tickets.pdf",
        f"/api/v1/tickets/{ticket.pk}/qr.png",
        f"/api/v1/tickets/{ticket.pk}/qr.svg",
        "/api/v1/orders/999999",
        "/api/v1/tickets/999999/qr.png",
    ):
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] in {"order_not_found", "ticket_not_found"}
    assert_error(
        stranger.post(f"/api/v1/orders/{order.pk}/cancel"), 404, "order_not_found"
    )
    order.refresh_from_db()
    assert order.state == "paid"
    assert APIClient().get(f"/api/v1/orders/{order.pk}").status_code == 401


def test_tickets_come_as_qr_png_svg_and_a_pdf(event):
    shopper, order, _ = buy(event, seat_ids(event)[:2])
    ticket = order.tickets.first()
    png = shopper.client.get(f"/api/v1/tickets/{ticket.pk}/qr.png")
    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = shopper.client.get(f"/api/v1/tickets/{ticket.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert shopper.client.get(f"/api/v1/tickets/{ticket.pk}/qr.gif").status_code == 404
    pdf = shopper.client.get(f"/api/v1/orders/{order.pk}/tickets.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    assert (
        body.startswith(b"%PDF")
        and body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") >= 1
    )
    # the QR payload names the event and the ticket code
    assert ticket.qr_payload == f"ONSALE:{event.pk}:{ticket.code}"


def test_a_render_killed_before_recording_its_pdf_leaves_no_file(event):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from onsale.orders.fulfilment import order_pdf_store

    _, order, _ = buy(event, seat_ids(event)[:1])
    order.refresh_from_db()
    first = order.pdf.name
    # A worker killed between storing its file and recording it: the file is
    # there, the order names none.
    Order.objects.filter(pk=order.pk).update(pdf="")
    other = default_storage.save(
        f"orders/{order.pk}/tickets-deadbeefdeadbeef.pdf", ContentFile(b"%PDF")
    )

    name = order_pdf_store(order_id=order.pk)

    order.refresh_from_db()
    assert order.pdf.name == name not in (first, other)
    _, files = default_storage.listdir(f"orders/{order.pk}")
    assert files == [name.rsplit("/", 1)[1]]
    default_storage.delete(name)


def test_a_failed_order_has_no_tickets_or_pdf(event):
    shopper, order, response = buy(event, seat_ids(event)[:1], card=DECLINE_CARD)
    assert response.status_code == 422
    assert_error(
        shopper.client.get(f"/api/v1/orders/{order.pk}/tickets.pdf"),
        404,
        "order_document_not_ready",
    )
    assert shopper.client.get(f"/api/v1/orders/{order.pk}").json()["pdf_url"] is None


def test_cancel_within_policy_refunds_and_puts_the_seats_back_on_sale_live(event):
    seats = seat_ids(event)[:2]
    shopper, order, _ = buy(event, seats)
    ticket = order.tickets.first()
    pubsub = redis_client().pubsub()
    pubsub.subscribe(seat_changes_channel(event.pk))
    pubsub.get_message(timeout=1)  # the subscribe confirmation

    response = shopper.client.post(f"/api/v1/orders/{order.pk}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "cancelled"
    assert response.json()["refunded_amount"] == "100.00"
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("cancelled", Decimal("100.00"))
    [charge] = FakeProviderCharge.objects.all()
    assert charge.amount_refunded == charge.amount
    assert FakeProviderRefund.objects.count() == 1
    assert SeatSale.objects.count() == 0
    assert not any(seat_unavailable(event, seat) for seat in seats)
    message = pubsub.get_message(timeout=2)
    pubsub.close()
    indexes = sorted(Seat.objects.filter(pk__in=seats).values_list("index", flat=True))
    assert sorted(json.loads(message["data"])["freed"]) == indexes
    # tickets are void: no QR any more
    assert shopper.client.get(f"/api/v1/tickets/{ticket.pk}/qr.png").status_code == 404
    # a second cancel is refused and refunds nothing more
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "order_not_cancellable",
    )
    assert FakeProviderRefund.objects.count() == 1
    # and someone else can buy the seats
    _, _, response = buy(event, seats)
    assert response.status_code == 201


def test_cancel_outside_the_refund_policy_is_refused_and_changes_nothing(event):
    shopper, order, _ = buy(event, seat_ids(event)[:1])
    refund_policy_set(event=event, refunds_allowed=True, cutoff_hours=24 * 31)
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "refund_window_closed",
    )
    RefundPolicy.objects.filter(event=event).update(
        refunds_allowed=False, cutoff_hours=0
    )
    assert_error(
        shopper.client.post(f"/api/v1/orders/{order.pk}/cancel"),
        409,
        "refund_window_closed",
    )
    order.refresh_from_db()
    assert order.state == "paid"
    assert FakeProviderRefund.objects.count() == 0
    assert SeatSale.objects.count() == 1


def test_default_policy_closes_refunds_before_the_event(event, settings):
    settings.ORDERS_REFUND_CUTOFF_HOURS = 48
    from onsale.orders.refunds import refund_policy_allows

    assert refund_policy_allows(event=event)
    assert not refund_policy_allows(
        event=event, at=event.starts_at - timedelta(hours=47)
    )


def test_concurrent_cancels_refund_once(event):
    shopper, order, _ = buy(event, seat_ids(event)[:2])
    barrier = threading.Barrier(10)

    def cancel(_: int) -> int:
        client = APIClient()
        client.force_authenticate(shopper.user)
        barrier.wait()
        try:
            return client.post(f"/api/v1/orders/{order.pk}/cancel").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(cancel, range(10)))
    assert sorted(statuses) == [200] + [409] * 9
    assert FakeProviderRefund.objects.count() == 1


def test_organizer_sees_live_sales_of_their_events_only(event):
    organizer = OrganizerFactory(organization=event.organization)
    buy(event, seat_ids(event, category="A")[:2])
    _, cancelled, _ = buy(event, seat_ids(event, category="B")[:1])
    buy(event, seat_ids(event, category="B")[1:3])
    buy(event, seat_ids(event, category="A")[2:3], card=DECLINE_CARD)
    cancelled.refresh_from_db()
    from onsale.orders.refunds import order_cancel

    order_cancel(order=cancelled)

    client = APIClient()
    client.force_authenticate(organizer)
    response = client.get(f"/api/v1/organizer/events/{event.pk}/sales")

    assert response.status_code == 200
    body = response.json()
    assert (body["tickets_sold"], body["revenue"]) == (4, "161.00")
    assert (body["tickets_refunded"], body["refunded"]) == (1, "30.50")
    assert body["orders"] == {"paid": 2, "pending": 0, "cancelled_or_refunded": 1}
    assert [
        (c["name"], c["tickets_sold"], c["revenue"], c["tickets_refunded"])
        for c in body["categories"]
    ] == [
        ("Stalls", 2, "100.00", 0),
        ("Balcony", 2, "61.00", 1),
    ]
    outsider = APIClient()
    outsider.force_authenticate(OrganizerFactory())
    assert_error(
        outsider.get(f"/api/v1/organizer/events/{event.pk}/sales"),
        404,
        "event_not_found",
    )
    fan = APIClient()
    fan.force_authenticate(UserFactory())
    assert fan.get(f"/api/v1/organizer/events/{event.pk}/sales").status_code == 403


def test_expired_orders_are_listed_with_their_state(event):
    shopper, order, _ = buy(event, seat_ids(event)[:1])
    Order.objects.filter(pk=order.pk).update(state="expired", closed_at=timezone.now())
    assert (
        shopper.client.get("/api/v1/orders").json()["results"][0]["state"] == "expired"
    )
