"""The seat and order gauges behind the oversell detector
(docs/observability.md), collected by `live.seat_gauges_collect`."""

from __future__ import annotations

import pytest

from onsale.checkout.tests.helpers import Shopper, checkout_body, seat_ids, seated_event
from onsale.console.live import seat_gauges_collect
from onsale.platform.metrics import gauges_collect

pytestmark = pytest.mark.django_db


# Committed for real: the sale retires its hold in Redis on commit.
@pytest.mark.django_db(transaction=True)
def test_seat_gauges_show_capacity_sold_and_held() -> None:
    event = seated_event()
    total = len(seat_ids(event))
    buyer = Shopper(event)
    hold = buyer.hold(seat_ids(event)[:3])
    assert (
        buyer.checkout(hold.hold_id, body=checkout_body(hold.hold_id)).status_code
        == 201
    )
    Shopper(event).hold(seat_ids(event)[3:5])

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for sample in seat_gauges_collect()
    }
    labels = (("event_id", event.pk),)
    assert samples[("onsale_event_seats_sold", labels)] == 3
    assert samples[("onsale_seats_held", labels)] == 2
    assert samples[("onsale_holds_active", labels)] == 1
    assert samples[("onsale_event_capacity", labels)] >= total
    assert samples[("onsale_orders", (("state", "paid"),))] == 1
    # and they reach the scrape
    names = {sample.name for sample in gauges_collect().samples}
    assert {
        "onsale_event_capacity",
        "onsale_event_seats_sold",
        "onsale_orders",
    } <= names
