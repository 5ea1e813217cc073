"""Fulfilment: tickets, the ticket PDF (order_pdf_store), the email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.orders import fulfilment
from onsale.orders.models import Order
from onsale.orders.tests.helpers import buy
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_order_fulfilment_run_twice_issues_one_set_of_tickets(event):
    # given a paid order (its fulfilment already ran once)
    _, order, response = buy(event, seat_ids(event)[:2])
    assert response.status_code == 201
    codes = set(order.tickets.values_list("code", flat=True))

    # when fulfilment runs again (a redelivered task)
    fulfilment.order_fulfilment_run(order_id=order.pk)

    # then the tickets are the same two
    assert set(order.tickets.values_list("code", flat=True)) == codes
    assert len(codes) == 2


def test_order_tickets_email_send_sends_once(event, mailoutbox):
    # given a paid order whose tickets were emailed
    _, order, _ = buy(event, seat_ids(event)[:1])
    assert len(mailoutbox) == 1

    # when the email step runs again, it sends nothing
    assert fulfilment.order_tickets_email_send(order_id=order.pk) is False
    assert len(mailoutbox) == 1


def test_orders_unfulfilled_ids_lists_paid_orders_not_finished_in_time(event):
    # given three paid orders: one fulfilled, one without its email, one
    # without tickets; all paid a minute ago
    _, done, _ = buy(event, seat_ids(event)[:1])
    _, unmailed, _ = buy(event, seat_ids(event)[1:2])
    _, unticketed, _ = buy(event, seat_ids(event)[2:3])
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    Order.objects.update(paid_at=a_minute_ago)
    Order.objects.filter(pk=unmailed.pk).update(emailed_at=None)
    Order.objects.filter(pk=unticketed.pk).update(
        tickets_issued_at=None, paid_at=a_minute_ago - timedelta(seconds=1)
    )

    # when / then: the unfinished ones, oldest payment first, up to the limit
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=30) == [
        unticketed.pk,
        unmailed.pk,
    ]
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=30, limit=1) == [
        unticketed.pk
    ]
    # and none paid less than `older_than_seconds` ago
    assert fulfilment.orders_unfulfilled_ids(older_than_seconds=3600) == []
    assert done.pk not in fulfilment.orders_unfulfilled_ids(older_than_seconds=30)


def test_the_ticket_email_links_to_the_order_page_absolutely(
    event, mailoutbox, settings
):
    # given the site's public address
    settings.ONSALE_PUBLIC_URL = "https://tickets.example.com"

    # when a fan buys a ticket
    _, order, _ = buy(event, seat_ids(event)[:1])

    # then both parts of the email link to https://host/orders/<id>/
    [mail] = mailoutbox
    url = f"https://tickets.example.com/orders/{order.pk}/"
    assert url in mail.body
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert 'href="/' not in html
