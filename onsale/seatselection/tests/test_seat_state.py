"""The Redis seat state: built once per layout, sold bits set and cleared, and
healed after a lost block, a lost sale mark or a state lost mid-sale."""

from __future__ import annotations

import pytest

from onsale.platform.redis import redis_client
from onsale.seatselection import exceptions, seat_state, selectors, services
from onsale.seatselection.keys import seat_state_keys
from onsale.seatselection.models import SeatSale
from onsale.seatselection.seatmaps.write import seats_block_set
from onsale.testutils.seats import hold, run_parallel, seat_ids, sell, sold_bits


@pytest.mark.django_db
def test_a_block_whose_redis_update_was_lost_is_healed(seated_event):
    ids = seat_ids(seated_event)
    selectors.availability_snapshot(event_id=seated_event.pk)  # state built
    # The block commits, but its after-commit push to Redis never runs.
    seats_block_set(event=seated_event, seat_ids=ids[:1], blocked=True)
    assert (
        selectors.availability_snapshot(event_id=seated_event.pk).is_unavailable(0)
        is False
    )

    seat_state.seat_state_reconcile(event_id=seated_event.pk)

    assert selectors.availability_snapshot(event_id=seated_event.pk).is_unavailable(0)


@pytest.mark.django_db(transaction=True)
def test_redis_losing_the_seat_state_mid_sale_keeps_sold_seats_sold(seated_event, fan):
    ids = seat_ids(seated_event)
    sold = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:3])
    sell(seated_event.pk, sold, fan.pk)
    other = hold(seated_event.pk, fan.pk + 1, "s2", seat_ids=ids[10:12])

    # Redis loses every key of the event's seat state.
    redis_client().delete(*seat_state_keys(seated_event.pk))
    # 60 fans then race for the sold seats and the rest of row A.
    results = run_parallel(
        60,
        lambda n: hold(
            seated_event.pk, 10_000 + n, f"after-{n}", seat_ids=[ids[n % 10]]
        ),
    )

    winners = [r for r in results if isinstance(r, selectors.Hold)]
    assert sorted(w.seat_indexes[0] for w in winners) == [3, 4, 5, 6, 7, 8, 9]
    assert sold_bits(seated_event.pk) == {0, 1, 2}
    snapshot = selectors.availability_snapshot(event_id=seated_event.pk)
    assert all(snapshot.is_unavailable(i) for i in (0, 1, 2))
    # Hold ids keep increasing across the loss (fencing tokens stay valid).
    assert min(w.hold_id for w in winners) > other.hold_id


@pytest.mark.django_db(transaction=True)
def test_a_sale_whose_redis_mark_was_lost_is_healed(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    # The sale commits but its after-commit Redis update never happens.
    SeatSale.objects.create(
        event=seated_event, seat_id=ids[0], user=fan, hold_id=held.hold_id
    )
    services.hold_release(
        event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
    )
    assert (
        selectors.availability_snapshot(event_id=seated_event.pk).is_unavailable(0)
        is False
    )

    seat_state.seat_state_reconcile(event_id=seated_event.pk)

    assert selectors.availability_snapshot(event_id=seated_event.pk).is_unavailable(0)
    with pytest.raises(exceptions.SeatsUnavailable):
        hold(seated_event.pk, fan.pk + 1, "s2", seat_ids=ids[:1])


@pytest.mark.django_db
def test_seat_state_ensure_builds_the_state_once(seated_event):
    redis_client().delete(*seat_state_keys(seated_event.pk))

    assert seat_state.seat_state_ensure(event_id=seated_event.pk) is True
    assert seat_state.seat_state_ensure(event_id=seated_event.pk) is False


@pytest.mark.django_db
def test_seats_mark_sold_and_seats_unsold_set_and_clear_the_sold_bits(seated_event):
    ids = seat_ids(seated_event)
    seat_state.seat_state_ensure(event_id=seated_event.pk)

    seat_state.seats_mark_sold(event_id=seated_event.pk, seat_ids=ids[:2])
    assert sold_bits(seated_event.pk) == {0, 1}
    # No sale in MySQL holds them: both go back on sale.
    seat_state.seats_unsold(event_id=seated_event.pk, seat_ids=ids[:2])
    assert sold_bits(seated_event.pk) == set()


@pytest.mark.django_db
def test_seats_sold_reconcile_copies_mysql_sales_into_redis(seated_event, fan):
    ids = seat_ids(seated_event)
    seat_state.seat_state_ensure(event_id=seated_event.pk)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    # Inside the test's transaction the after-commit mark never runs: MySQL
    # has the sale, Redis does not.
    sell(seated_event.pk, held, fan.pk)
    assert sold_bits(seated_event.pk) == set()

    seat_state.seats_sold_reconcile(event_id=seated_event.pk)

    assert sold_bits(seated_event.pk) == {0}
