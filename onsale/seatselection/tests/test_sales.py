"""Recording and releasing sales: fencing, MySQL refusing a second sale, and
general-admission counts."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from onsale.platform.db import TransactionRequired
from onsale.platform.redis import redis_client
from onsale.seatselection import exceptions, selectors, services
from onsale.seatselection import sales as seat_sales
from onsale.seatselection.keys import seat_key, seat_state_keys
from onsale.seatselection.models import PriceCategory, SeatSale
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import held_indexes, hold, seat_ids, sell, sold_bits

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sale_is_recorded_and_marked_sold(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])

    sell(seated_event.pk, held, fan.pk)

    assert set(SeatSale.objects.values_list("seat_id", "hold_id")) == {
        (ids[0], held.hold_id),
        (ids[1], held.hold_id),
    }
    assert sold_bits(seated_event.pk) == {0, 1}
    # the hold stays while the payment runs (a decline leaves it to the fan)
    assert held_indexes(seated_event.pk) == {0, 1}
    with pytest.raises(exceptions.SeatsUnavailable):
        hold(seated_event.pk, fan.pk + 1, "s2", seat_ids=ids[1:2])


def test_hold_retire_retires_a_sold_hold_and_keeps_its_seats_sold(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])
    sell(seated_event.pk, held, fan.pk)

    seat_sales.hold_retire(
        event_id=seated_event.pk, hold_id=held.hold_id, seat_ids=ids[:2]
    )

    assert held_indexes(seated_event.pk) == set()
    assert sold_bits(seated_event.pk) == {0, 1}
    with pytest.raises(exceptions.HoldExpired):
        services.hold_confirm(
            event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
        )
    with pytest.raises(exceptions.SeatsUnavailable):
        hold(seated_event.pk, fan.pk + 1, "s2", seat_ids=ids[1:2])


def test_an_expired_hold_cannot_be_sold_even_if_its_seats_were_held_again(
    seated_event, fan, settings
):
    other = UserFactory()
    settings.SEAT_HOLD_SECONDS = 1
    ids = seat_ids(seated_event)
    stale = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    time.sleep(1.2)
    settings.SEAT_HOLD_SECONDS = 600
    fresh = hold(seated_event.pk, other.pk, "s2", seat_ids=ids[:1])

    assert fresh.hold_id > stale.hold_id  # the fencing token moved on
    with pytest.raises(exceptions.HoldExpired):
        sell(seated_event.pk, stale, fan.pk)
    assert SeatSale.objects.count() == 0

    sell(seated_event.pk, fresh, other.pk)
    assert list(SeatSale.objects.values_list("hold_id", flat=True)) == [fresh.hold_id]


def test_mysql_refuses_a_second_sale_of_a_seat(seated_event, fan):
    other = UserFactory()
    ids = seat_ids(seated_event)
    first = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    sell(seated_event.pk, first, fan.pk)
    # Redis forgets the sale but keeps its generation, so nothing is rebuilt:
    # the seat looks free.
    generation = redis_client().get(seat_key(seated_event.pk, "gen"))
    redis_client().delete(*seat_state_keys(seated_event.pk))
    redis_client().set(seat_key(seated_event.pk, "gen"), generation)
    second = hold(seated_event.pk, other.pk, "s2", seat_ids=ids[:2])

    with pytest.raises(exceptions.SeatAlreadySold) as failure:
        sell(seated_event.pk, second, other.pk)

    assert failure.value.extra["seat_ids"] == [ids[0]]
    assert SeatSale.objects.count() == 1  # nothing of the second sale was written


def test_general_admission_sales_are_counted_and_survive_a_loss(seated_event, fan):
    held = hold(seated_event.pk, fan.pk, "s1", category="GA", quantity=4)

    sell(seated_event.pk, held, fan.pk)
    redis_client().delete(*seat_state_keys(seated_event.pk))

    assert PriceCategory.objects.get(event=seated_event, code="GA").ga_sold == 4
    snapshot = selectors.availability_snapshot(event_id=seated_event.pk)
    assert snapshot.general_admission == {"GA": 96}


def test_sale_release_deletes_the_orders_sales_and_gives_back_places(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])
    sell(seated_event.pk, held, fan.pk)
    PriceCategory.objects.filter(event=seated_event, code="GA").update(ga_sold=3)

    with transaction.atomic():
        released = seat_sales.sale_release(
            event_id=seated_event.pk,
            order_reference="o-1",
            general_admission=[("GA", 2)],
        )

    assert released == sorted(ids[:2])
    assert SeatSale.objects.filter(event=seated_event).count() == 0
    assert PriceCategory.objects.get(event=seated_event, code="GA").ga_sold == 1


def test_sale_record_refuses_outside_a_transaction(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])

    with pytest.raises(TransactionRequired):
        seat_sales.sale_record(
            hold=services.hold_confirm(
                event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
            ),
            order_reference="o-1",
        )

    assert SeatSale.objects.count() == 0
    assert sold_bits(seated_event.pk) == set()
    assert held_indexes(seated_event.pk) == {0}  # the hold is still there


def test_sale_release_refuses_outside_a_transaction(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    sell(seated_event.pk, held, fan.pk)
    PriceCategory.objects.filter(event=seated_event, code="GA").update(ga_sold=3)

    with pytest.raises(TransactionRequired):
        seat_sales.sale_release(
            event_id=seated_event.pk,
            order_reference="o-1",
            general_admission=[("GA", 2)],
        )

    assert SeatSale.objects.filter(event=seated_event).count() == 1
    assert PriceCategory.objects.get(event=seated_event, code="GA").ga_sold == 3
