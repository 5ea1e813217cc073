"""Fulfilment: tickets, the ticket PDF (order_pdf_store), the email."""

from __future__ import annotations

import pytest

from onsale.checkout.tests.helpers import (
    seat_ids,
)
from onsale.orders.models import Order
from onsale.orders.tests.helpers import buy

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
