"""The admin site for support staff (`platform.admin.SupportAdmin` and the
apps' admin classes): staff list and open events, seat maps, orders,
tickets, payments and the audit log; nothing is added or deleted there, and
the audit log cannot be changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.utils import timezone

from onsale.events.models import Event
from onsale.orders.models import Order, OrderLine, Ticket
from onsale.payments.fake.models import (
    FakeProviderCharge,
    FakeProviderEvent,
    FakeProviderRefund,
)
from onsale.payments.models import WebhookReceipt
from onsale.seatselection.models import PriceCategory, SeatMap, SeatSale
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.seats import SMALL_MAP, hold, seat_ids, sell
from onsale.usermgmt.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    """A support account: staff role, admin access, no superuser powers and
    no model permissions granted."""
    user = UserFactory(role="staff", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def records() -> dict[str, Any]:
    """One of each record support staff look at."""
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization, name="Admin Gala")
    seatmap_replace(event=event, data=SMALL_MAP, actor=organizer)
    buyer = UserFactory(email="buyer@example.test")
    sell(
        event.pk,
        hold(event.pk, buyer.pk, "s-1", seat_ids=seat_ids(event)[:1]),
        buyer.pk,
    )
    category = PriceCategory.objects.get(event=event, code="A")
    order = Order.objects.create(
        user=buyer,
        event=event,
        state=Order.State.PAID,
        currency="EUR",
        total=category.price,
        hold_id=1,
        buyer_name="Buyer",
        buyer_email="buyer@example.test",
        payment_provider="fake",
        payment_token="tok_secret_method",
        charge_id="ch_admin_1",
        expires_at=timezone.now() + timedelta(minutes=10),
        paid_at=timezone.now(),
    )
    line = OrderLine.objects.create(
        order=order,
        category=category,
        category_name=category.name,
        seat_label="Stalls A-1",
        price=category.price,
    )
    charge = FakeProviderCharge.objects.create(
        id="ch_admin_1",
        idempotency_key=order.payment_key,
        amount=order.total,
        currency="EUR",
        status="succeeded",
        card_last4="4242",
    )
    return {
        "event": event,
        "seatmap": SeatMap.objects.get(event=event),
        "seatsale": SeatSale.objects.get(event=event),
        "order": order,
        "ticket": Ticket.objects.create(
            order=order, line=line, event=event, code="TICKETADMIN1"
        ),
        "webhookreceipt": WebhookReceipt.objects.create(
            provider="fake", event_id="evt_admin_1", event_type="charge.succeeded"
        ),
        "fakeprovidercharge": charge,
        "fakeproviderrefund": FakeProviderRefund.objects.create(
            id="re_admin_1", charge=charge, idempotency_key="r-1", amount=1
        ),
        "fakeproviderevent": FakeProviderEvent.objects.create(
            id="evt_admin_1", type="charge.succeeded", data={}
        ),
        "auditentry": AuditEntry.objects.get(event_id=event.pk),
    }


ADMIN_PAGES = {
    "event": "events/event",
    "seatmap": "seatselection/seatmap",
    "seatsale": "seatselection/seatsale",
    "order": "orders/order",
    "ticket": "orders/ticket",
    "webhookreceipt": "payments/webhookreceipt",
    "fakeprovidercharge": "payments_fake/fakeprovidercharge",
    "fakeproviderrefund": "payments_fake/fakeproviderrefund",
    "fakeproviderevent": "payments_fake/fakeproviderevent",
    "auditentry": "usermgmt/auditentry",
}


def test_staff_see_every_support_model_on_the_admin_index(staff, records):
    html = staff.get("/admin/").content.decode()
    for page in ADMIN_PAGES.values():
        assert f'href="/admin/{page}/"' in html


@pytest.mark.parametrize("name", list(ADMIN_PAGES))
def test_staff_list_and_open_each_record_read_only(staff, records, name):
    record = records[name]
    base = f"/admin/{ADMIN_PAGES[name]}/"
    listing = staff.get(base)
    assert listing.status_code == 200
    change = f"{base}{quote(record.pk)}/change/"
    assert f'href="{change}"' in listing.content.decode()
    # a search is answered too
    assert staff.get(base, {"q": "x"}).status_code == 200
    page = staff.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    # a view, not a form: nothing to save, nothing to delete, nothing to add
    assert 'name="_save"' not in html
    assert "/delete/" not in html
    assert staff.get(f"{base}add/").status_code == 403
    assert staff.get(f"{base}{quote(record.pk)}/delete/").status_code == 403


def test_staff_cannot_delete_an_order(staff, records):
    order = records["order"]
    assert staff.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    assert (
        staff.post(
            f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    # nor through the list's bulk action, which is not offered
    listing = staff.get("/admin/orders/order/").content.decode()
    assert "delete_selected" not in listing
    staff.post(
        "/admin/orders/order/",
        {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"},
    )
    assert Order.objects.filter(pk=order.pk).exists()
    assert OrderLine.objects.filter(order=order).count() == 1


def test_not_even_a_superuser_deletes_orders_or_changes_the_audit_log(records):
    admin = UserFactory(role="staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    order, entry = records["order"], records["auditentry"]
    assert client.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    assert (
        client.get(f"/admin/usermgmt/auditentry/{entry.pk}/delete/").status_code == 403
    )
    page = client.get(f"/admin/usermgmt/auditentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    before = AuditEntry.objects.get(pk=entry.pk)
    client.post(f"/admin/usermgmt/auditentry/{entry.pk}/change/", {"action": "forged"})
    assert (
        AuditEntry.objects.get(pk=entry.pk).action == before.action == "seatmap.replace"
    )
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_order_page_hides_the_stored_payment_method(staff, records):
    order = records["order"]
    html = staff.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "ch_admin_1" in html
    assert "Stalls A-1" in html
    assert "tok_secret_method" not in html


def test_a_superuser_renames_an_event_through_the_audited_service(records):
    admin = UserFactory(role="staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    event = records["event"]
    url = f"/admin/events/event/{event.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="name"' in page
    assert 'name="status"' not in page  # the status moves through the console
    response = client.post(url, {"name": "Renamed Gala", "venue_name": "New Hall"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.name, event.venue_name, event.status) == (
        "Renamed Gala",
        "New Hall",
        Event.Status.PUBLISHED,
    )
    entry = AuditEntry.objects.filter(event_id=event.pk, action="event.update").get()
    assert (entry.actor_id, entry.after) == (
        admin.pk,
        {"name": "Renamed Gala", "venue_name": "New Hall"},
    )


def test_staff_without_the_change_permission_only_view_an_event(staff, records):
    event = records["event"]
    url = f"/admin/events/event/{event.pk}/change/"
    assert 'name="name"' not in staff.get(url).content.decode()
    assert staff.post(url, {"name": "Nope", "venue_name": "Nope"}).status_code == 403
    event.refresh_from_db()
    assert event.name == "Admin Gala"
