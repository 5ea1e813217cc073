"""Writes and rules for orders: state changes, compensation, tickets, files,
emails, cancellation and refunds.

Every state change is `order_transition`: one conditional UPDATE whose row
count says whether this caller moved the order. Whoever moves it does the
follow-up (release seats, enqueue fulfilment); whoever loses does nothing, or
gives money back if it holds a charge for an order that can no longer be paid.
Calls into seat selection, the waiting room and the payment provider go
through `onsale.checkout.inventory` and `onsale.checkout.payments`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from onsale.checkout import inventory
from onsale.checkout.payments import Charge, payment_gateway
from onsale.events.models import Event
from onsale.orders.documents import order_pdf_render
from onsale.orders.exceptions import OrderNotCancellable, RefundWindowClosed
from onsale.orders.models import Order, RefundPolicy, Ticket
from onsale.platform import telemetry

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


def order_mark_paid(*, order_id: int, charge: Charge) -> Order:
    """pending -> paid with the provider's charge, then fulfilment (tickets,
    email) is enqueued once the UPDATE is committed.

    If the order is no longer pending (it expired or failed while the charge
    was in flight), the charge has no order to pay for: it is refunded. An
    order that is already paid is left alone (the same charge, reported twice).
    """
    from onsale.orders import tasks

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
                lambda: tasks.order_fulfil.delay(order_id), robust=True
            )
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


def order_fail(
    *, order_id: int, reason: str, to_state: str = Order.State.FAILED
) -> bool:
    """Compensate a pending order: pending -> failed (or expired) with its
    seat sales released in MySQL in the same transaction, then its seats put
    back on sale in Redis and any charge the provider made refunded.

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
        )
        order = Order.objects.select_related("event").get(pk=order_id)
        if moved:
            inventory.sales_release(order=order)
    if moved:
        order_seats_put_back_or_retry(order=order)
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
    from onsale.orders import tasks

    try:
        inventory.seats_put_back(order=order)
    except (redis.exceptions.RedisError, ConnectionError, TimeoutError):
        logger.warning(
            "seats not put back in Redis; retrying", extra={"order_id": order.pk}
        )
        order_id = order.pk
        transaction.on_commit(
            lambda: tasks.order_seats_put_back.delay(order_id), robust=True
        )


def order_refund_ensure(*, order_id: int) -> bool:
    """Make sure a closed order's charge is fully refunded; True if this call
    refunded something.

    Pending and paid orders are never refunded here. The charge is looked up
    at the provider by the order's payment key (a timed-out charge may exist
    that we never heard of); the refund uses the order's refund key, so two
    callers cannot refund twice. Raises PaymentTransientError when the
    provider cannot be reached: callers retry.
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
    return True


def order_refund_ensure_or_retry(*, order_id: int) -> None:
    """`order_refund_ensure` now; if the provider is unreachable, in a task
    with retries (enqueued after the current transaction commits)."""
    from onsale.checkout.payments import PaymentTransientError
    from onsale.orders import tasks

    try:
        order_refund_ensure(order_id=order_id)
    except PaymentTransientError:
        transaction.on_commit(lambda: tasks.order_refund.delay(order_id), robust=True)


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
    cancelled, tickets voided and seat sales released in one transaction,
    then the seats go back on sale (live on the seat map) and the charge is
    refunded (retried in a task if the provider is unreachable).

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
    order_seats_put_back_or_retry(order=order)
    order_refund_ensure_or_retry(order_id=order.pk)
    order.refresh_from_db()
    return order


def order_refunded_by_provider(
    *, charge_id: str, amount_refunded: Decimal, amount: Decimal
) -> Order | None:
    """The provider reports a refund we did not ask for (made in its
    dashboard). A fully refunded paid order becomes `refunded`: tickets voided,
    seats released and put back on sale. Other orders only record the amount.
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
    if moved:
        order_seats_put_back_or_retry(order=order)
    else:
        Order.objects.filter(pk=order.pk).update(refunded_amount=amount_refunded)
    order.refresh_from_db()
    return order


def _ticket_code() -> str:
    # 120 random bits in base32-ish URL-safe text: unguessable, short enough
    # to type at a door if the QR will not scan.
    return secrets.token_urlsafe(15)


def order_tickets_issue(*, order_id: int) -> list[Ticket]:
    """Issue one ticket per line of a paid order; returns the order's tickets.

    Idempotent: lines that have a ticket are skipped and UNIQUE (line) stops
    two concurrent runs from making a second set (the loser reads the
    winner's). Orders that are not paid get no tickets.
    """
    order = Order.objects.get(pk=order_id)
    if order.state != Order.State.PAID:
        return list(order.tickets.all())
    missing = list(order.lines.filter(ticket__isnull=True))
    if missing:
        now = timezone.now()
        try:
            with transaction.atomic():
                Ticket.objects.bulk_create(
                    [
                        Ticket(
                            order=order,
                            line=line,
                            event_id=order.event_id,
                            code=_ticket_code(),
                            issued_at=now,
                        )
                        for line in missing
                    ]
                )
                Order.objects.filter(
                    pk=order_id, tickets_issued_at__isnull=True
                ).update(tickets_issued_at=now)
        except IntegrityError:
            logger.info("tickets issued concurrently", extra={"order_id": order_id})
    return list(Ticket.objects.filter(order_id=order_id).select_related("line"))


def order_pdf_store(*, order_id: int) -> str:
    """Render the order's ticket PDF and store it through Django's default
    storage (local disk, or S3 with django-storages); returns the file name.
    Done once: a stored PDF is kept, and of two concurrent renders the one
    that loses the conditional UPDATE deletes its file. The one recorded also
    deletes any file a render killed before recording left behind."""
    order = Order.objects.select_related("event").get(pk=order_id)
    if order.pdf:
        return order.pdf.name
    tickets = list(Ticket.objects.filter(order_id=order_id).select_related("line"))
    if not tickets:
        return ""
    content = order_pdf_render(order=order, tickets=tickets)
    name = default_storage.save(
        f"{_pdf_folder(order.pk)}/{_PDF_PREFIX}{secrets.token_hex(8)}.pdf",
        ContentFile(content),
    )
    if Order.objects.filter(pk=order_id, pdf="").update(pdf=name) != 1:
        default_storage.delete(name)
        order.refresh_from_db()
        return order.pdf.name
    _pdf_orphans_delete(order_id=order.pk, keep=name)
    return name


_PDF_PREFIX = "tickets-"


def _pdf_folder(order_id: int) -> str:
    return f"orders/{order_id}"


def _pdf_orphans_delete(*, order_id: int, keep: str) -> None:
    """Delete the order's other ticket PDFs, once `keep` is the recorded one:
    a render whose worker died between storing its file and recording it left
    one, and a concurrent render that lost deletes its own anyway."""
    folder = _pdf_folder(order_id)
    try:
        _folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        path = f"{folder}/{file_name}"
        if file_name.startswith(_PDF_PREFIX) and path != keep:
            default_storage.delete(path)
            logger.info(
                "orphaned ticket PDF deleted",
                extra={"order_id": order_id, "file": path},
            )


def order_email_send(*, order_id: int, site_url: str = "") -> bool:
    """Email the buyer their tickets (codes, a link to the order page with the
    QR codes and the PDF, and the PDF attached when
    settings.ORDERS_EMAIL_ATTACH_PDF) through Django's email backend. True if
    this call sent it.

    Sent once per order, and never lost: the send is claimed for
    settings.ORDERS_EMAIL_CLAIM_SECONDS by a conditional UPDATE, and
    `emailed_at` is set only once the mail server took the message. A failed
    send releases the claim and raises (the task retries); a worker killed
    mid-send leaves the claim to run out, after which the fulfilment sweep
    sends it again. Only a worker killed between the server's acceptance and
    the UPDATE that follows can make a second email."""
    now = timezone.now()
    claimed_until = now + timedelta(seconds=settings.ORDERS_EMAIL_CLAIM_SECONDS)
    claimed = (
        Order.objects.filter(
            pk=order_id, state=Order.State.PAID, emailed_at__isnull=True
        )
        .filter(Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now))
        .update(email_claimed_until=claimed_until)
    )
    if claimed != 1:
        return False
    try:
        order = Order.objects.select_related("event").get(pk=order_id)
        tickets = list(Ticket.objects.filter(order_id=order_id).select_related("line"))
        context = {
            "order": order,
            "tickets": tickets,
            "site_url": site_url,
            "attach_pdf": settings.ORDERS_EMAIL_ATTACH_PDF,
        }
        message = EmailMultiAlternatives(
            subject=f"Your tickets for {order.event.name} (order {order.pk})",
            body=render_to_string("orders/email/tickets.txt", context),
            to=[order.buyer_email],
        )
        message.attach_alternative(
            render_to_string("orders/email/tickets.html", context), "text/html"
        )
        if settings.ORDERS_EMAIL_ATTACH_PDF and order.pdf:
            with default_storage.open(order.pdf.name, "rb") as handle:
                message.attach(
                    f"tickets-order-{order.pk}.pdf", handle.read(), "application/pdf"
                )
        message.send()
    except Exception:
        Order.objects.filter(pk=order_id).update(email_claimed_until=None)
        raise
    Order.objects.filter(pk=order_id).update(
        emailed_at=timezone.now(), email_claimed_until=None
    )
    return True


def orders_unfulfilled_ids(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Paid orders whose fulfilment (tickets or email) has not finished
    `older_than_seconds` after payment: their task was lost (a broker outage
    at enqueue time) or exhausted its retries."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Order.objects.filter(state=Order.State.PAID, paid_at__lte=cutoff)
        .filter(Q(tickets_issued_at__isnull=True) | Q(emailed_at__isnull=True))
        .order_by("paid_at")
        .values_list("pk", flat=True)[:limit]
    )


def order_fulfil(*, order_id: int) -> Order:
    """Everything after the charge, each step idempotent: issue tickets, store
    the PDF when the email attaches it (otherwise it is rendered on its first
    download), end the shopper's admission session (frees their place in the
    waiting room's active cap)."""
    order_tickets_issue(order_id=order_id)
    if settings.ORDERS_EMAIL_ATTACH_PDF:
        order_pdf_store(order_id=order_id)
    order = Order.objects.get(pk=order_id)
    if order.access_session_id:
        inventory.admission_end(order=order)
    return order
