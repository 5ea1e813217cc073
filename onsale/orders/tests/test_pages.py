"""Web pages: checkout, order confirmation with QR codes, my orders, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from onsale.events.models import Event
from onsale.orders.models import Order
from onsale.testutils.checkout import Shopper, seated_event
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def event(transactional_db):
    return seated_event()


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_checkout_page_shows_the_hold_and_the_payment_form(event):
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)
    page = browser(shopper.user).get(f"/checkout/{event.pk}/{hold.hold_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stalls A 1" in html and "Stalls A 2" in html
    assert "100.00 EUR" in html
    assert 'id="checkout-form"' in html and "4242424242424242" in html
    assert f'data-hold-id="{hold.hold_id}"' in html
    assert "checkout/checkout.js" in html
    assert (
        "http://" not in html.replace("http://www.w3.org", "")
        and "https://" not in html
    )


def test_checkout_page_for_a_hold_that_is_gone_says_so(event):
    shopper = Shopper(event)
    page = browser(shopper.user).get(f"/checkout/{event.pk}/123/")
    assert page.status_code == 409
    assert "expired" in page.content.decode()
    assert Client().get(f"/checkout/{event.pk}/123/").status_code == 302  # to login


def test_confirmation_my_orders_and_cancel_pages(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    order_id = shopper.checkout(hold.hold_id).json()["id"]
    order = Order.objects.get(pk=order_id)
    web = browser(shopper.user)

    confirmation = web.get(f"/orders/{order_id}/?placed=1").content.decode()
    assert "Thank you" in confirmation
    for ticket in order.tickets.all():
        assert f"/api/v1/tickets/{ticket.pk}/qr.svg" in confirmation
        assert ticket.code in confirmation
    assert f"/api/v1/orders/{order_id}/tickets.pdf" in confirmation
    assert "Cancel this order" in confirmation

    listing = web.get("/orders/").content.decode()
    assert f"No. {order_id}" in listing and event.name in listing

    # the QR image the page points at loads with the browser session
    ticket = order.tickets.first()
    assert web.get(f"/api/v1/tickets/{ticket.pk}/qr.svg").status_code == 200

    # cancelling asks first, and asking changes nothing
    confirm = web.get(f"/orders/{order_id}/cancel/")
    assert confirm.status_code == 200
    assert "Yes, cancel and refund" in confirm.content.decode()
    order.refresh_from_db()
    assert order.state == "paid"

    cancelled = web.post(f"/orders/{order_id}/cancel/")
    assert cancelled.status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    after = web.get(f"/orders/{order_id}/").content.decode()
    assert "Cancelled" in after and "Cancel this order" not in after
    assert web.post(f"/orders/{order_id}/cancel/").status_code == 409
    # a cancelled order has nothing to confirm: back to its page
    assert web.get(f"/orders/{order_id}/cancel/").status_code == 302


def test_someone_elses_order_page_is_404(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    order_id = shopper.checkout(hold.hold_id).json()["id"]
    stranger = browser(UserFactory())
    assert stranger.get(f"/orders/{order_id}/").status_code == 404
    assert stranger.get(f"/orders/{order_id}/cancel/").status_code == 404
    assert stranger.post(f"/orders/{order_id}/cancel/").status_code == 404
    assert Order.objects.get(pk=order_id).state == "paid"


def test_the_order_pages_in_german(event):
    Event.objects.filter(pk=event.pk).update(
        starts_at=datetime(2031, 3, 7, 19, 30, tzinfo=UTC)
    )
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    order_id = shopper.checkout(hold.hold_id).json()["id"]
    Order.objects.filter(pk=order_id).update(
        created_at=datetime(2031, 1, 2, 9, 5, tzinfo=UTC)
    )
    web = browser(shopper.user)
    web.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"

    detail = web.get(f"/orders/{order_id}/?placed=1").content.decode()
    listing = web.get("/orders/").content.decode()
    confirm = web.get(f"/orders/{order_id}/cancel/").content.decode()
    web.post(f"/orders/{order_id}/cancel/")
    refused = web.post(f"/orders/{order_id}/cancel/")
    missing = browser(UserFactory()).get(
        f"/orders/{order_id}/", HTTP_ACCEPT_LANGUAGE="de"
    )

    assert f"<h1>Bestellung Nr. {order_id}</h1>" in detail
    assert "Vielen Dank! Ihre Zahlung ist eingegangen." in detail
    assert "<dt>Wann</dt><dd>Fr, 7. Mär 2031, 19:30 UTC</dd>" in detail
    assert '<dd class="state-paid">Bezahlt</dd>' in detail
    assert "<dt>Gesamt</dt><dd>100,00 EUR</dd>" in detail
    assert "<td>50,00 EUR</td>" in detail
    assert "Diese Bestellung stornieren …" in detail
    assert "<h1>Meine Bestellungen</h1>" in listing
    assert f">Nr. {order_id}</a><br><small>2. Jan 2031, 09:05</small>" in listing
    assert "<small>Fr, 7. Mär 2031</small>" in listing
    assert "<td>100,00 EUR</td>" in listing
    assert "Ja, stornieren und 100,00 EUR erstatten" in confirm
    assert refused.status_code == 409
    refused_page = refused.content.decode()
    assert "Nur bezahlte Bestellungen können storniert werden." in refused_page
    assert '<dd class="state-cancelled">Storniert</dd>' in refused_page
    assert missing.status_code == 404
    assert "Bestellung nicht gefunden" in missing.content.decode()


def test_a_failed_order_says_why_in_german(event):
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    order_id = shopper.checkout(hold.hold_id).json()["id"]
    Order.objects.filter(pk=order_id).update(
        state=Order.State.FAILED, failure_reason="card_declined"
    )
    web = browser(shopper.user)

    german = web.get(f"/orders/{order_id}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = web.get(f"/orders/{order_id}/").content.decode()

    assert "Ihre Karte wurde abgelehnt. Es wurde kein Geld einbehalten." in german
    assert "Ihre Plätze bleiben für Sie reserviert" in german
    assert "Your card was declined. No money was kept." in english
    assert "Your seats stay held for you" in english
