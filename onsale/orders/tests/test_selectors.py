"""Reads of orders (order_get, order_state_get) and of sales figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from onsale.orders import selectors
from onsale.orders.exceptions import OrderNotFound, TicketNotFound
from onsale.orders.models import Order, Ticket
from onsale.orders.tests.helpers import buy
from onsale.testutils.checkout import Shopper
from onsale.testutils.factories import UserFactory
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_get_and_order_state_get(event):
    _, order, _ = buy(event, seat_ids(event)[:1])
    assert selectors.order_get(order_id=order.pk).pk == order.pk
    assert selectors.order_state_get(order_id=order.pk) == Order.State.PAID
    assert selectors.order_state_get(order_id=order.pk + 1000) is None
    with pytest.raises(Order.DoesNotExist):
        selectors.order_get(order_id=order.pk + 1000)


def test_order_with_details_loads_event_lines_and_tickets(
    event, django_assert_num_queries
):
    # given a paid order of two seats
    seats = seat_ids(event)[:2]
    _, order, _ = buy(event, seats)

    # when it is read with its details
    found = selectors.order_with_details(order_id=order.pk)

    # then its event, lines and tickets need no more queries
    with django_assert_num_queries(0):
        assert found.event.pk == event.pk
        lines = list(found.lines.all())
        assert sorted(line.seat_id for line in lines) == sorted(seats)
        assert all(line.ticket.order_id == order.pk for line in lines)


def test_order_list_for_user_newest_first_and_only_theirs(event):
    # given two orders of one fan and one of another fan
    shopper, first, _ = buy(event, seat_ids(event)[:1])
    second_shopper = Shopper(event, user=shopper.user)
    second_shopper.checkout(second_shopper.hold(seat_ids(event)[1:2]).hold_id)
    buy(event, seat_ids(event)[2:3])
    second = Order.objects.filter(user=shopper.user).exclude(pk=first.pk).get()

    # when / then: newest first, paged
    listed = selectors.order_list_for_user(user=shopper.user)
    assert [order.pk for order in listed] == [second.pk, first.pk]
    paged = selectors.order_list_for_user(user=shopper.user, limit=1, offset=1)
    assert [order.pk for order in paged] == [first.pk]


def test_order_get_for_owner_hides_others_orders(event):
    # given a fan's order
    shopper, order, _ = buy(event, seat_ids(event)[:1])

    # when / then: the owner gets it; another fan and a missing id do not
    assert selectors.order_get_for_owner(order_id=order.pk, user=shopper.user) == order
    with pytest.raises(OrderNotFound):
        selectors.order_get_for_owner(order_id=order.pk, user=UserFactory())
    with pytest.raises(OrderNotFound):
        selectors.order_get_for_owner(order_id=order.pk + 1000, user=shopper.user)


def test_ticket_get_for_owner_valid_tickets_of_paid_orders_only(event):
    # given a fan's paid order with one ticket
    shopper, order, _ = buy(event, seat_ids(event)[:1])
    ticket = order.tickets.get()

    # when / then: the owner gets it, another fan does not
    assert (
        selectors.ticket_get_for_owner(ticket_id=ticket.pk, user=shopper.user).pk
        == ticket.pk
    )
    with pytest.raises(TicketNotFound):
        selectors.ticket_get_for_owner(ticket_id=ticket.pk, user=UserFactory())
    # and once voided, neither does the owner
    Ticket.objects.filter(pk=ticket.pk).update(voided_at=timezone.now())
    with pytest.raises(TicketNotFound):
        selectors.ticket_get_for_owner(ticket_id=ticket.pk, user=shopper.user)


def test_event_sales_get_counts_paid_and_refunded(event):
    # given two paid orders of one seat each, one then refunded by the provider
    _, kept, _ = buy(event, seat_ids(event)[:1])
    _, refunded, _ = buy(event, seat_ids(event)[1:2])
    Order.objects.filter(pk=refunded.pk).update(state=Order.State.REFUNDED)

    # when
    sales = selectors.event_sales_get(event=event)

    # then one ticket sold and one refunded, at the stalls price
    assert (sales.event_id, sales.currency) == (event.pk, event.currency)
    assert (sales.tickets_sold, sales.revenue) == (1, kept.total)
    assert (sales.tickets_refunded, sales.refunded) == (1, refunded.total)
    assert (sales.orders_paid, sales.orders_pending, sales.orders_refunded) == (
        1,
        0,
        1,
    )
    assert [(c.tickets_sold, c.tickets_refunded) for c in sales.categories] == [(1, 1)]


def test_event_sales_pace_get_counts_tickets_paid_since(event):
    # given nothing sold: no tickets, no first sale
    start = timezone.now()
    assert selectors.event_sales_pace_get(event=event, since=start) == (
        selectors.SalesPace(tickets=0, first_paid_at=None)
    )
    # given a paid order of two seats, paid an hour ago, and one of one seat now
    _, early, _ = buy(event, seat_ids(event)[:2])
    hour_ago = start - timedelta(hours=1)
    Order.objects.filter(pk=early.pk).update(paid_at=hour_ago)
    buy(event, seat_ids(event)[2:3])
    # and a refunded one paid now
    _, refunded, _ = buy(event, seat_ids(event)[3:4])
    Order.objects.filter(pk=refunded.pk).update(state=Order.State.REFUNDED)

    pace = selectors.event_sales_pace_get(event=event, since=start)
    # then only the paid seat of the window counts, and the first sale is early
    assert pace == selectors.SalesPace(tickets=1, first_paid_at=hour_ago)
    assert selectors.event_sales_pace_get(event=event, since=hour_ago).tickets == 3


def test_order_counts_by_state(event):
    # given one paid order and one failed one
    buy(event, seat_ids(event)[:1])
    _, failed, _ = buy(event, seat_ids(event)[1:2])
    Order.objects.filter(pk=failed.pk).update(state=Order.State.FAILED)

    # when / then
    assert selectors.order_counts_by_state() == {"paid": 1, "failed": 1}
