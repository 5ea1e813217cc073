"""End to end with a real Celery worker process: checkout over the API, the
worker issues the tickets, ends the session and emails them; a timeout card's
retries run in the worker with real countdowns and end in compensation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from onsale.orders.models import Order
from onsale.payments.fake.cards import TIMEOUT_CARD
from onsale.payments.fake.models import FakeProviderCharge
from onsale.seatselection import services as seat_services
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import Shopper, seat_unavailable, seated_event
from onsale.testutils.seats import seat_ids
from onsale.testutils.worker import wait_for, worker_start
from onsale.waitingroom.access import access_token_verify
from onsale.waitingroom.exceptions import AccessSessionEnded

__all__ = ["worker_start"]  # the fixture, imported so pytest finds it here

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def worker(worker_start: Callable[[], Any], tmp_path: Path) -> Path:
    """One running worker; returns the folder it writes emails to."""
    worker_start()
    return tmp_path / "mail"


def test_a_real_worker_fulfils_a_checkout_and_compensates_a_timeout(
    worker: Path,
) -> None:
    # given an admitted fan holding two seats
    event = seated_event()
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)

    # when they pay: the API answers once the charge is done
    response = shopper.checkout(hold.hold_id)
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]

    # then the worker issues the tickets and emails them
    order = wait_for(
        lambda: Order.objects.filter(pk=order_id, emailed_at__isnull=False).first()
    )
    tickets = list(order.tickets.all())
    assert len(tickets) == 2
    assert order.pdf.name.endswith(".pdf")
    [mail_file] = list(worker.iterdir())
    mail = mail_file.read_text()
    assert "To: ada@example.test" in mail
    assert all(ticket.code in mail for ticket in tickets)
    assert "application/pdf" in mail
    with pytest.raises(AccessSessionEnded):
        access_token_verify(
            token=shopper.token, user_id=shopper.user.pk, event_id=event.pk
        )

    # and a timeout card: 202, the worker retries with a real countdown, then
    # compensates: the charge it could not confirm is refunded, seats freed
    other = Shopper(event)
    other_seats = seat_ids(event)[2:3]
    other_hold = other.hold(other_seats)
    pending = other.checkout(other_hold.hold_id, card=TIMEOUT_CARD)
    assert pending.status_code == 202
    assert pending.json()["state"] == "pending"
    failed = wait_for(
        lambda: Order.objects.filter(
            pk=pending.json()["id"], state="failed", refunded_amount__gt=0
        ).first()
    )
    assert failed.failure_reason == "payment_timeout"
    charge = FakeProviderCharge.objects.get(idempotency_key=failed.payment_key)
    assert charge.amount_refunded == charge.amount
    assert SeatSale.objects.filter(order_reference=str(failed.pk)).count() == 0
    # the fan keeps the hold to try again; once it goes, the seat is free
    seat_services.hold_release(
        event_id=event.pk, hold_id=other_hold.hold_id, user_id=other.user.pk
    )
    assert not seat_unavailable(event, other_seats[0])
