"""Orders API: owner-only reads (IDOR), tickets as QR and PDF, cancellation
within the refund policy, the organizer's sales view."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.orders.models import Order
from onsale.orders.tests.helpers import buy
from onsale.payments.fake.cards import DECLINE_CARD
from onsale.testutils.checkout import assert_error
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_a_failed_order_has_no_tickets_or_pdf(event):
    shopper, order, response = buy(event, seat_ids(event)[:1], card=DECLINE_CARD)
    assert response.status_code == 422
    assert_error(
        shopper.client.get(f"/api/v1/orders/{order.pk}/tickets.pdf"),
        404,
        "order_document_not_ready",
    )
    assert shopper.client.get(f"/api/v1/orders/{order.pk}").json()["pdf_url"] is None


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
