"""The port to seat selection and the waiting room (orders/inventory.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from onsale.events.exceptions import EventNotFound
from onsale.orders import inventory
from onsale.orders.exceptions import AccessTokenMissing
from onsale.orders.models import Order
from onsale.seatselection.exceptions import SeatAlreadySold
from onsale.seatselection.models import SeatSale
from onsale.testutils.checkout import Shopper
from onsale.testutils.factories import OrganizerFactory
from onsale.testutils.seats import seat_ids
from onsale.waitingroom import scripts
from onsale.waitingroom.exceptions import AccessTokenInvalid

pytestmark = pytest.mark.django_db(transaction=True)


def test_hold_for_checkout_prices_seats_and_places_from_mysql(event):
    # given a hold of two standing places
    shopper = Shopper(event)
    hold = shopper.hold(None, category="GA", quantity=2)

    # when it is confirmed for checkout
    confirmed = inventory.hold_for_checkout(
        event_id=event.pk,
        user_id=shopper.user.pk,
        hold_id=hold.hold_id,
        extend_seconds=60,
    )

    # then one line per place, each at the price category's price
    assert [(line.seat_id, line.price) for line in confirmed.lines] == [
        (None, Decimal("25")),
        (None, Decimal("25")),
    ]
    assert [line.label for line in confirmed.lines] == [
        "Standing (standing) 1/2",
        "Standing (standing) 2/2",
    ]
    assert confirmed.total == Decimal("50")


def test_access_verify_needs_a_token_and_access_event_id_reads_its_audience(event):
    shopper = Shopper(event)
    with pytest.raises(AccessTokenMissing):
        inventory.access_verify(token="", user=shopper.user, event_id=event.pk)
    assert inventory.access_event_id(token=shopper.token) == event.pk
    assert (
        inventory.access_verify(
            token=shopper.token, user=shopper.user, event_id=event.pk
        )
        == shopper.grant.claims.session_id
    )
    with pytest.raises(AccessTokenInvalid):
        inventory.access_event_id(token="not-a-jwt")


def _bare_order(shopper: Shopper, hold: inventory.CheckoutHold) -> Order:
    """A pending order of the hold with no lines nor sales yet (what
    order_create writes before it records the sale)."""
    now = timezone.now()
    return Order.objects.create(
        user=shopper.user,
        event_id=hold.event_id,
        currency=hold.currency,
        total=hold.total,
        hold_id=hold.hold_id,
        access_session_id=shopper.grant.claims.session_id,
        buyer_name="Ada Fan",
        buyer_email="ada@example.test",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )


def _confirmed(shopper: Shopper, seats: list[int]) -> inventory.CheckoutHold:
    return inventory.hold_for_checkout(
        event_id=shopper.event.pk,
        user_id=shopper.user.pk,
        hold_id=shopper.hold(seats).hold_id,
        extend_seconds=60,
    )


def test_admission_end_ends_the_shoppers_session(event):
    # given an admitted fan's order
    shopper = Shopper(event)
    order = _bare_order(shopper, _confirmed(shopper, seat_ids(event)[:1]))

    # when
    inventory.admission_end(order=order)

    # then their session is over
    session = scripts.session_record_get(event_id=event.pk, user_id=shopper.user.pk)
    assert session is not None and session.ended


def test_sales_record_and_sales_release(event):
    # given an order of a confirmed hold of two seats
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = _confirmed(shopper, seats)
    order = _bare_order(shopper, hold)

    # when its sale is recorded
    with transaction.atomic():
        inventory.sales_record(order=order, hold=hold)

    # then the order owns both seats
    sales = SeatSale.objects.filter(order_reference=str(order.pk))
    assert sorted(sales.values_list("seat_id", flat=True)) == sorted(seats)
    assert inventory.seat_sales_per_order() == Counter({str(order.pk): 2})

    # when it is released
    with transaction.atomic():
        inventory.sales_release(order=order)

    # then it owns none
    assert SeatSale.objects.count() == 0
    assert inventory.seat_sales_per_order() == Counter()


def test_sales_record_of_a_sold_seat_is_refused_and_changes_nothing(event):
    # given a seat already sold to another order
    seats = seat_ids(event)[:1]
    first = Shopper(event)
    first_hold = _confirmed(first, seats)
    first_order = _bare_order(first, first_hold)
    with transaction.atomic():
        inventory.sales_record(order=first_order, hold=first_hold)
    second = Shopper(event)
    second_order = _bare_order(second, first_hold)

    # when / then: a second sale of the same seat is refused
    with pytest.raises(SeatAlreadySold), transaction.atomic():
        inventory.sales_record(order=second_order, hold=first_hold)

    # and the first order still owns it alone
    assert inventory.seat_sales_per_order() == Counter({str(first_order.pk): 1})


def test_event_get_and_event_for_organizer(event):
    # given an event and one of its organizers
    organizer = OrganizerFactory(organization=event.organization)

    # when / then
    assert inventory.event_get(event_id=event.pk) == event
    assert inventory.event_get(event_id=event.pk + 1000) is None
    assert inventory.event_for_organizer(event_id=event.pk, viewer=organizer) == event
    with pytest.raises(EventNotFound):
        inventory.event_for_organizer(event_id=event.pk, viewer=OrganizerFactory())
