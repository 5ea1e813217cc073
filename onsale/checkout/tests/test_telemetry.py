"""The business events that SREs' dashboards and alerts read:
CheckoutCompleted / CheckoutFailed once per order (docs/observability.md)."""

from __future__ import annotations

import pytest

from onsale.payments.fake.cards import DECLINE_CARD
from onsale.platform.observability import telemetry
from onsale.testutils.checkout import Shopper, checkout_body, seated_event
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(monkeypatch):
    events: list[tuple[str, dict]] = []
    original = telemetry.record_event

    def record(name, /, **attributes):
        events.append((name, attributes))
        original(name, **attributes)

    monkeypatch.setattr(telemetry, "record_event", record)
    return events


def test_a_paid_checkout_records_checkout_completed_once(recorded) -> None:
    event = seated_event()
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:2])
    response = shopper.checkout(hold.hold_id, body=checkout_body(hold.hold_id))
    assert response.status_code == 201, response.content
    completed = [attrs for name, attrs in recorded if name == "CheckoutCompleted"]
    assert len(completed) == 1
    attrs = completed[0]
    assert attrs["event_id"] == event.pk
    assert attrs["order_id"] == response.json()["id"]
    assert attrs["seats"] == 2
    assert attrs["currency"] == event.currency
    assert attrs["amount"] > 0
    assert attrs["latency_ms"] >= 0
    assert not [name for name, _ in recorded if name == "CheckoutFailed"]


def test_a_declined_checkout_records_checkout_failed_at_the_charge(recorded) -> None:
    event = seated_event()
    shopper = Shopper(event)
    hold = shopper.hold(seat_ids(event)[:1])
    response = shopper.checkout(
        hold.hold_id, body=checkout_body(hold.hold_id, card=DECLINE_CARD)
    )
    assert response.status_code == 422, response.content
    failed = [attrs for name, attrs in recorded if name == "CheckoutFailed"]
    assert len(failed) == 1
    assert failed[0]["event_id"] == event.pk
    assert failed[0]["step"] == "charge"
    assert failed[0]["reason"]
    assert not [name for name, _ in recorded if name == "CheckoutCompleted"]
