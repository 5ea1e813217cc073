"""A fan's cancellation within the event's refund policy, the policies
themselves, and refunds made at the provider that reach us by webhook.

The money side of a closed order (`order_refund_ensure`) stays in
services.py: failing and expiring orders need it too.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onsale.events.models import Event
from onsale.orders import inventory
from onsale.orders.exceptions import OrderNotCancellable, RefundWindowClosed
from onsale.orders.models import Order, OrderEmail, RefundPolicy, Ticket
from onsale.orders.services import (
    order_email_owe,
    order_refund_ensure_or_retry,
    order_seats_put_back_or_retry,
    order_transition,
)


def refund_policy_allows(*, event: Event, at: Any = None) -> bool:
    """Whether the event's refund policy lets fans cancel now: refunds allowed
    and the event starts more than the cutoff from now. Events without a
    policy row use settings.ORDERS_REFUND_CUTOFF_HOURS."""
    policy = RefundPolicy.objects.filter(event=event).first()
    allowed = True if policy is None else policy.refunds_allowed
    cutoff = (
        settings.ORDERS_REFUND_CUTOFF_HOURS if policy is None else policy.cutoff_hours
    )
    now = at or timezone.now()
    return allowed and now < event.starts_at - timedelta(hours=cutoff)


def refund_policy_set(
    *, event: Event, refunds_allowed: bool, cutoff_hours: int
) -> RefundPolicy:
    """Create or change an event's refund policy."""
    policy, _ = RefundPolicy.objects.update_or_create(
        event=event,
        defaults={"refunds_allowed": refunds_allowed, "cutoff_hours": cutoff_hours},
    )
    return policy


def order_cancel(*, order: Order) -> Order:
    """A fan cancels a paid order within the event's refund policy: paid ->
    cancelled, tickets voided, seat sales released and the cancellation email
    owed in one transaction, then the seats go back on sale (live on the seat
    map) and the charge is refunded (retried in a task if the provider is
    unreachable; the refund email follows the refund).

    Raises OrderNotCancellable unless the order is paid (a second cancel of
    the same order loses the transition and gets it too), RefundWindowClosed
    outside the policy.
    """
    if order.state != Order.State.PAID:
        raise OrderNotCancellable(extra={"state": order.state})
    if not refund_policy_allows(event=order.event):
        raise RefundWindowClosed()
    now = timezone.now()
    with transaction.atomic():
        moved = order_transition(
            order_id=order.pk,
            from_states=[Order.State.PAID],
            to_state=Order.State.CANCELLED,
            closed_at=now,
        )
        if not moved:
            raise OrderNotCancellable(
                extra={"state": Order.objects.get(pk=order.pk).state}
            )
        Ticket.objects.filter(order_id=order.pk, voided_at__isnull=True).update(
            voided_at=now
        )
        inventory.sales_release(order=order)
        order_email_owe(order_id=order.pk, kind=OrderEmail.Kind.CANCELLED)
    order_seats_put_back_or_retry(order=order)
    order_refund_ensure_or_retry(order_id=order.pk)
    order.refresh_from_db()
    return order


def order_refunded_by_provider(
    *, charge_id: str, amount_refunded: Decimal, amount: Decimal
) -> Order | None:
    """The provider reports a refund we did not ask for (made in its
    dashboard). A fully refunded paid order becomes `refunded`: tickets voided,
    seats released and put back on sale, the buyer emailed (once). Other
    orders only record the amount.
    """
    order = Order.objects.select_related("event").filter(charge_id=charge_id).first()
    if order is None:
        return None
    moved = False
    if amount_refunded >= amount:
        now = timezone.now()
        with transaction.atomic():
            moved = order_transition(
                order_id=order.pk,
                from_states=[Order.State.PAID],
                to_state=Order.State.REFUNDED,
                closed_at=now,
                refunded_amount=amount_refunded,
            )
            if moved:
                Ticket.objects.filter(order_id=order.pk, voided_at__isnull=True).update(
                    voided_at=now
                )
                inventory.sales_release(order=order)
                order_email_owe(order_id=order.pk, kind=OrderEmail.Kind.REFUNDED)
    if moved:
        order_seats_put_back_or_retry(order=order)
    else:
        Order.objects.filter(pk=order.pk).update(refunded_amount=amount_refunded)
    order.refresh_from_db()
    return order
