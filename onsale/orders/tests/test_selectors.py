"""Reads of orders (order_get, order_state_get)."""

from __future__ import annotations

import pytest

from onsale.orders import selectors
from onsale.orders.models import Order
from onsale.orders.tests.helpers import buy
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_get_and_order_state_get(event):
    _, order, _ = buy(event, seat_ids(event)[:1])
    assert selectors.order_get(order_id=order.pk).pk == order.pk
    assert selectors.order_state_get(order_id=order.pk) == Order.State.PAID
    assert selectors.order_state_get(order_id=order.pk + 1000) is None
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(order_id=order.pk + 1000)
