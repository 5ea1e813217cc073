"""Reads of orders, tickets and sales figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Min, Prefetch, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onsale.events.models import Event
from onsale.orders.exceptions import OrderNotFound, TicketNotFound
from onsale.orders.models import Order, OrderLine, Ticket
from onsale.usermgmt.models import User


def _with_details(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("event").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("ticket"))
    )


# What a failed order's reason means to the person who paid.
# In the fan's language (the code beside each message never changes).
PAYMENT_FAILURE_MESSAGES = {
    "card_declined": gettext_lazy("Your card was declined."),
    "insufficient_funds": gettext_lazy("The card has insufficient funds."),
    "invalid_number": gettext_lazy("The card number is not valid."),
    "payment_timeout": gettext_lazy(
        "The payment provider did not confirm the payment in time; "
        "anything it charged has been refunded."
    ),
}


@dataclass(frozen=True)
class PaymentStatus:
    """Where an order's payment stands, as the fan is told: a stable `code`
    and a `message` for people."""

    code: str
    message: str


def order_payment_status(*, order: Order) -> PaymentStatus:
    """The fan's view of the order's payment. A pending order is
    `payment_processing` until a charge attempt ended without an answer,
    then `payment_confirming` ("we are confirming your payment with the
    bank") while the saga retries it, until it is paid or failed."""
    state = order.state
    if state == Order.State.PENDING:
        if order.charge_unknown_since is not None:
            return PaymentStatus(
                code="payment_confirming",
                message=_(
                    "We are confirming your payment with the bank. This can "
                    "take a minute or two; you will not be charged twice."
                ),
            )
        return PaymentStatus(
            code="payment_processing", message=_("Your payment is being processed.")
        )
    if state == Order.State.PAID:
        return PaymentStatus(code="paid", message=_("Your payment went through."))
    if state == Order.State.FAILED:
        return PaymentStatus(
            code="payment_failed",
            message=str(
                PAYMENT_FAILURE_MESSAGES.get(
                    order.failure_reason, _("The payment did not go through.")
                )
            ),
        )
    if state == Order.State.EXPIRED:
        return PaymentStatus(
            code="order_expired",
            message=_(
                "This order expired before it was paid; its seats were released."
            ),
        )
    if state == Order.State.CANCELLED:
        return PaymentStatus(
            code="order_cancelled",
            message=_("This order was cancelled and refunded."),
        )
    return PaymentStatus(code="order_refunded", message=_("This order was refunded."))


def order_with_details(*, order_id: int) -> Order:
    """One order with its event, lines and tickets loaded (no ownership
    check: for code that already knows whose order it is)."""
    return _with_details(Order.objects.filter(pk=order_id)).get()


def order_get(*, order_id: int) -> Order:
    """One order as stored, nothing prefetched (`Order.DoesNotExist` if
    missing); for the saga, which re-reads an order after each step."""
    return Order.objects.get(pk=order_id)


def order_state_get(*, order_id: int) -> str | None:
    """Only the order's state (one column), or None for a missing order."""
    return Order.objects.filter(pk=order_id).values_list("state", flat=True).first()


def order_list_for_user(*, user: User, limit: int = 50, offset: int = 0) -> list[Order]:
    """The user's orders, newest first (every state)."""
    orders = _with_details(Order.objects.filter(user=user)).order_by(
        "-created_at", "-pk"
    )
    return list(orders[offset : offset + limit])


def order_get_for_owner(*, order_id: int, user: User) -> Order:
    """The order if `user` placed it. Anyone else's order is `OrderNotFound`
    exactly like a missing id, so order ids cannot be probed."""
    order = _with_details(Order.objects.filter(pk=order_id, user=user)).first()
    if order is None:
        raise OrderNotFound()
    return order


def ticket_get_for_owner(*, ticket_id: int, user: User) -> Ticket:
    """A valid ticket of a paid order of `user`; anything else (someone
    else's, voided, missing) is `TicketNotFound`."""
    ticket = (
        Ticket.objects.select_related("order", "line", "event")
        .filter(
            pk=ticket_id,
            order__user=user,
            order__state=Order.State.PAID,
            voided_at__isnull=True,
        )
        .first()
    )
    if ticket is None:
        raise TicketNotFound()
    return ticket


@dataclass(frozen=True)
class CategorySales:
    category_id: int
    name: str
    tickets_sold: int
    revenue: Decimal
    tickets_refunded: int
    refunded: Decimal


@dataclass(frozen=True)
class EventSales:
    """An event's sales, live from MySQL: paid orders count as sold;
    cancelled and refunded ones as refunds; pending ones are in flight."""

    event_id: int
    currency: str
    categories: list[CategorySales] = field(default_factory=list)
    tickets_sold: int = 0
    revenue: Decimal = Decimal("0")
    tickets_refunded: int = 0
    refunded: Decimal = Decimal("0")
    orders_paid: int = 0
    orders_pending: int = 0
    orders_refunded: int = 0


@dataclass
class _Tally:
    name: str
    sold: int = 0
    revenue: Decimal = Decimal("0")
    refunded_count: int = 0
    refunded: Decimal = Decimal("0")


def event_sales_get(*, event: Event) -> EventSales:
    """Tickets sold and revenue per price category, refunds, and order counts
    for one event. Two grouped queries; no per-order work."""
    rows = (
        OrderLine.objects.filter(order__event=event, category__isnull=False)
        .values("category_id", "category_name", "order__state")
        .annotate(count=Count("id"), amount=Sum("price"))
    )
    totals: dict[int, _Tally] = {}
    refund_states = (Order.State.CANCELLED, Order.State.REFUNDED)
    for row in rows:
        tally = totals.setdefault(row["category_id"], _Tally(name=row["category_name"]))
        if row["order__state"] == Order.State.PAID:
            tally.sold += row["count"]
            tally.revenue += row["amount"]
        elif row["order__state"] in refund_states:
            tally.refunded_count += row["count"]
            tally.refunded += row["amount"]
    categories = [
        CategorySales(
            category_id=category_id,
            name=tally.name,
            tickets_sold=tally.sold,
            revenue=tally.revenue,
            tickets_refunded=tally.refunded_count,
            refunded=tally.refunded,
        )
        for category_id, tally in sorted(totals.items())
    ]
    states = dict(
        Order.objects.filter(event=event)
        .values_list("state")
        .annotate(count=Count("id"))
        .values_list("state", "count")
    )
    return EventSales(
        event_id=event.pk,
        currency=event.currency,
        categories=categories,
        tickets_sold=sum(c.tickets_sold for c in categories),
        revenue=sum((c.revenue for c in categories), Decimal("0")),
        tickets_refunded=sum(c.tickets_refunded for c in categories),
        refunded=sum((c.refunded for c in categories), Decimal("0")),
        orders_paid=states.get(Order.State.PAID, 0),
        orders_pending=states.get(Order.State.PENDING, 0),
        orders_refunded=states.get(Order.State.CANCELLED, 0)
        + states.get(Order.State.REFUNDED, 0),
    )


@dataclass(frozen=True)
class SalesPace:
    """How an event is selling: `tickets` in orders paid at or after the
    moment asked about, and when its first order still paid was paid (None
    before any sale)."""

    tickets: int
    first_paid_at: datetime | None


def event_sales_pace_get(*, event: Event, since: datetime) -> SalesPace:
    """Tickets of the event's paid orders paid since `since`, and its first
    paid order's time. Orders cancelled or refunded since count for nothing:
    only what is sold now paces the sale."""
    paid = Order.objects.filter(event=event, state=Order.State.PAID)
    tickets = OrderLine.objects.filter(
        order__in=paid.filter(paid_at__gte=since)
    ).count()
    first = paid.aggregate(first=Min("paid_at"))["first"]
    return SalesPace(tickets=tickets, first_paid_at=first)


def order_counts_by_state() -> dict[str, int]:
    """Orders of every event by state (for the `onsale_orders` gauge)."""
    rows = Order.objects.values("state").annotate(count=Count("pk")).order_by()
    return {row["state"]: row["count"] for row in rows}
