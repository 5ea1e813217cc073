"""Writes and rules for orders: creation, state changes and compensation.

Every state change is `order_transition`: one conditional UPDATE whose row
count says whether this caller moved the order. Whoever moves it does the
follow-up (release seats, enqueue fulfilment); whoever loses does nothing, or
gives money back if it holds a charge for an order that can no longer be paid.
Calls into seat selection and the waiting room go through
`onsale.orders.inventory`, calls to the payment provider through
`onsale.payments`. Tickets, files and emails are in `fulfilment.py`; a fan's
cancellation, refund policies and refunds made at the provider in
`refunds.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from onsale.orders import inventory
from onsale.orders.exceptions import HoldAlreadyCheckedOut
from onsale.orders.inventory import CheckoutHold
from onsale.orders.models import Order, OrderEmail, OrderLine
from onsale.orders.tasks import order_fulfil as order_fulfil_task
from onsale.orders.tasks import (
    order_notice_email_send as order_notice_email_send_task,
)
from onsale.orders.tasks import order_refund as order_refund_task
from onsale.orders.tasks import order_seats_put_back as order_seats_put_back_task
from onsale.payments import Charge, PaymentTransientError, payment_gateway
from onsale.platform.db import require_atomic
from onsale.platform.observability import telemetry
from onsale.usermgmt.models import User

logger = logging.getLogger(__name__)

# States in which an order has given its seats back (or never will pay).
CLOSED_STATES = (
    Order.State.FAILED,
    Order.State.EXPIRED,
    Order.State.CANCELLED,
    Order.State.REFUNDED,
)


def order_transition(
    *, order_id: int, from_states: Iterable[str], to_state: str, **fields: Any
) -> bool:
    """Move the order to `to_state` if it is in one of `from_states`, setting
    `fields` in the same UPDATE. True if this call moved it; False if the
    order was elsewhere (someone else moved it first)."""
    moved = Order.objects.filter(pk=order_id, state__in=list(from_states)).update(
        state=to_state, updated_at=timezone.now(), **fields
    )
    return moved == 1


def order_create(
    *,
    user: User,
    hold: CheckoutHold,
    session_id: str,
    buyer_name: str,
    buyer_email: str,
    payment_token: str,
    language: str = "",
) -> Order:
    """A pending order for a hold confirmed at the start of checkout: the
    order, one line per seat or place (prices from the hold, which read them
    from MySQL), and the hold's seat sales, in the caller's transaction.

    Must run inside `transaction.atomic()`, so the caller can tie its own rows
    (the Idempotency-Key record) to the order in the same commit; refused
    otherwise (`TransactionRequired`). The sale is recorded from the hold as
    it was fenced at the start of checkout, without a second check in Redis.
    Raises `SeatAlreadySold` or `GeneralAdmissionSoldOut` from seat selection
    (nothing is kept then: the caller's transaction rolls back).

    `language` is the fan's language at checkout; the order's emails use it.

    A hold has one live (pending or paid) order at a time, UNIQUE
    (event, live_hold_id): the hold now outlives its order's commit (a
    declined card keeps it for another try), so a second checkout of it while
    the first is being paid, or after it was paid, is `HoldAlreadyCheckedOut`
    (naming that order). A failed or expired order clears its claim.
    """
    require_atomic()
    now = timezone.now()
    try:
        with transaction.atomic():
            order = Order.objects.create(
                user=user,
                event_id=hold.event_id,
                currency=hold.currency,
                total=hold.total,
                hold_id=hold.hold_id,
                live_hold_id=hold.hold_id,
                access_session_id=session_id,
                buyer_name=buyer_name,
                buyer_email=buyer_email,
                language=language,
                payment_token=payment_token,
                created_at=now,
                expires_at=now
                + timedelta(seconds=settings.CHECKOUT_PENDING_TIMEOUT_SECONDS),
            )
    except IntegrityError:
        live = (
            Order.objects.filter(event_id=hold.event_id, live_hold_id=hold.hold_id)
            .values_list("pk", flat=True)
            .first()
        )
        if live is None:
            raise
        raise HoldAlreadyCheckedOut(extra={"order_id": live}) from None
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                seat_id=line.seat_id,
                category_id=line.category_id,
                category_name=line.category_name,
                seat_label=line.label,
                price=line.price,
            )
            for line in hold.lines
        ]
    )
    inventory.sales_record(order=order, hold=hold)
    return order


def order_mark_paid(*, order_id: int, charge: Charge) -> Order:
    """pending -> paid with the provider's charge, then fulfilment (tickets,
    email) is enqueued once the UPDATE is committed.

    If the order is no longer pending (it expired or failed while the charge
    was in flight), the charge has no order to pay for: it is refunded. An
    order that is already paid is left alone (the same charge, reported twice).
    """
    with transaction.atomic():
        moved = order_transition(
            order_id=order_id,
            from_states=[Order.State.PENDING],
            to_state=Order.State.PAID,
            charge_id=charge.id,
            payment_provider=payment_gateway().name,
            paid_at=timezone.now(),
        )
        if moved:
            # robust: a broker outage must not turn a committed sale into an
            # error for the buyer; the fulfilment sweep enqueues it later.
            transaction.on_commit(
                lambda: order_fulfil_task.delay(order_id), robust=True
            )
            transaction.on_commit(lambda: _hold_retire(order_id=order_id))
    order = Order.objects.get(pk=order_id)
    if moved:
        _checkout_event_record("CheckoutCompleted", order=order)
    if not moved and order.state in CLOSED_STATES:
        logger.warning(
            "charge for a closed order; refunding",
            extra={"order_id": order_id, "state": order.state},
        )
        order_refund_ensure_or_retry(order_id=order_id)
    return order


def order_charge_outcome_unknown(*, order_id: int) -> None:
    """A charge attempt of a pending order ended without an answer (timeout):
    note when it first happened (`charge_unknown_since`), so the fan is told
    the payment is being confirmed with the bank while the saga retries it.
    A no-op for an order that is no longer pending or already noted."""
    Order.objects.filter(
        pk=order_id, state=Order.State.PENDING, charge_unknown_since__isnull=True
    ).update(charge_unknown_since=timezone.now())


def order_fail(
    *, order_id: int, reason: str, to_state: str = Order.State.FAILED
) -> bool:
    """Compensate a pending order: pending -> failed (or expired) with its
    seat sales released in MySQL in the same transaction, then its seats put
    back on sale in Redis and any charge the provider made refunded.

    The seats go back on sale only once the fan's hold has gone: a fan whose
    card was declined keeps the hold (back to its own expiry, the checkout's
    extension undone) and may pay again for the same seats while it lives.

    True if this call closed the order. An order that got paid meanwhile is
    not touched (the transition loses); one already closed is only checked
    for a charge to refund, so calling this twice is safe.
    """
    with transaction.atomic():
        moved = order_transition(
            order_id=order_id,
            from_states=[Order.State.PENDING],
            to_state=to_state,
            failure_reason=reason[:64],
            closed_at=timezone.now(),
            live_hold_id=None,
        )
        order = Order.objects.select_related("event").get(pk=order_id)
        if moved:
            inventory.sales_release(order=order)
    if moved:
        order_seats_put_back_or_retry(order=order)
        _hold_keep_for_retry(order=order)
        _checkout_event_record(
            "CheckoutFailed",
            order=order,
            reason=reason[:64],
            # Every caller fails a pending order: its seats were confirmed, so
            # either the charge failed or nobody paid in time.
            step="expire" if to_state == Order.State.EXPIRED else "charge",
        )
    if order.state in CLOSED_STATES:
        order_refund_ensure_or_retry(order_id=order_id)
    return moved


def _hold_retire(*, order_id: int) -> None:
    """After the payment committed: retire the order's hold in Redis. A Redis
    error is only logged: the hold lapses at its expiry and its seats stay
    marked sold either way."""
    try:
        inventory.hold_retire(order=Order.objects.get(pk=order_id))
    except (redis.exceptions.RedisError, ConnectionError, TimeoutError):
        logger.warning("hold not retired in Redis", extra={"order_id": order_id})


def _hold_keep_for_retry(*, order: Order) -> None:
    """The order failed: the fan keeps its hold (seat selection still holds
    the seats) for another payment attempt, but only for the hold's own time,
    not the extension the checkout gave it. A Redis error is only logged: the
    hold then lapses at the end of that extension."""
    try:
        inventory.hold_after_failed_payment(order=order)
    except (redis.exceptions.RedisError, ConnectionError, TimeoutError):
        logger.warning(
            "hold expiry not restored in Redis", extra={"order_id": order.pk}
        )


def _checkout_event_record(name: str, *, order: Order, **attributes: Any) -> None:
    """The business event of a checkout's outcome (docs/observability.md).
    Called only by the caller whose state change won, so once per order."""
    latency_ms = (timezone.now() - order.created_at).total_seconds() * 1000
    if name == "CheckoutCompleted":
        attributes.update(
            seats=order.lines.count(),
            amount=float(order.total),
            currency=order.currency,
        )
    telemetry.record_event(
        name,
        event_id=order.event_id,
        order_id=order.pk,
        latency_ms=round(latency_ms, 1),
        **attributes,
    )


def order_seats_put_back_or_retry(*, order: Order) -> None:
    """Put a closed order's seats back on sale in Redis now; if Redis fails
    (after MySQL already released them), retry in a task, so a blip cannot
    leave seats shown as sold for good."""
    try:
        inventory.seats_put_back(order=order)
    except (redis.exceptions.RedisError, ConnectionError, TimeoutError):
        logger.warning(
            "seats not put back in Redis; retrying", extra={"order_id": order.pk}
        )
        order_id = order.pk
        transaction.on_commit(
            lambda: order_seats_put_back_task.delay(order_id), robust=True
        )


def order_refund_ensure(*, order_id: int) -> bool:
    """Make sure a closed order's charge is fully refunded; True if this call
    refunded something.

    Pending and paid orders are never refunded here. The charge is looked up
    at the provider by the order's payment key (a timed-out charge may exist
    that we never heard of); the refund uses the order's refund key, so two
    callers cannot refund twice, and the buyer is emailed once that it was
    made. Raises PaymentTransientError when the provider cannot be reached:
    callers retry.
    """
    order = Order.objects.get(pk=order_id)
    if order.state not in CLOSED_STATES:
        return False
    gateway = payment_gateway()
    charge = gateway.charge_find(idempotency_key=order.payment_key)
    if charge is None or not charge.succeeded:
        return False
    if charge.fully_refunded:
        Order.objects.filter(pk=order_id).update(refunded_amount=charge.amount)
        return False
    refund = gateway.refund(charge_id=charge.id, idempotency_key=order.refund_key)
    Order.objects.filter(pk=order_id).update(
        refund_id=refund.id,
        refunded_amount=refund.amount + charge.amount_refunded,
        charge_id=charge.id,
    )
    order_email_owe(order_id=order_id, kind=OrderEmail.Kind.REFUNDED)
    return True


def order_email_owe(*, order_id: int, kind: str) -> bool:
    """Record that the order owes its buyer an email of `kind` (an
    `OrderEmail`: cancelled, refunded) and send it after the current
    transaction commits. Once per order and kind (UNIQUE): a second call,
    from a retried or repeated report of the same change, owes nothing more.
    True if this call owed it."""
    try:
        with transaction.atomic():
            OrderEmail.objects.create(order_id=order_id, kind=kind)
    except IntegrityError:
        return False
    # robust: a broker outage leaves the email owed; the fulfilment sweep
    # sends it later.
    transaction.on_commit(
        lambda: order_notice_email_send_task.delay(order_id, kind), robust=True
    )
    return True


def order_refund_ensure_or_retry(*, order_id: int) -> None:
    """`order_refund_ensure` now; if the provider is unreachable, in a task
    with retries (enqueued after the current transaction commits)."""
    try:
        order_refund_ensure(order_id=order_id)
    except PaymentTransientError:
        transaction.on_commit(lambda: order_refund_task.delay(order_id), robust=True)
