"""Set-up shared by the orders tests."""

from __future__ import annotations

from typing import Any

from onsale.events.models import Event
from onsale.orders.models import Order
from onsale.testutils.checkout import Shopper


def buy(event: Event, seats: list[int], *, card: str | None = None) -> Any:
    """A fan holds `seats` and checks out; returns (shopper, order, response)."""
    shopper = Shopper(event)
    hold = shopper.hold(seats)
    kwargs = {"card": card} if card else {}
    response = shopper.checkout(hold.hold_id, **kwargs)
    order = Order.objects.filter(user=shopper.user).first()
    return shopper, order, response
