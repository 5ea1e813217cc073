"""Celery wrappers of the order services: fetch by id, call the service.

Each task imports its service inside its body (services import the tasks, as
`order_fulfil_task` and so on), and pins its registered name: queued tasks
and the beat schedule keep working whatever the module is called.
Every task is idempotent (the services check state first), acknowledges late
(a killed worker's task is delivered again) and retries transient failures
with exponential backoff. Enqueue them with `transaction.on_commit`.
"""

from __future__ import annotations

import smtplib
from typing import Any

import redis
from celery import shared_task
from django.db import InterfaceError, OperationalError

from onsale.orders.models import Order
from onsale.payments import PaymentTransientError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    PaymentTransientError,
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
)

_RETRYING: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="onsale.orders.tasks.order_fulfil", **_RETRYING)
def order_fulfil(order_id: int) -> None:
    """Tickets, PDF and session end for a paid order, then the email."""
    from onsale.orders import fulfilment

    fulfilment.order_fulfilment_run(order_id=order_id)
    order_email_send.delay(order_id)


@shared_task(name="onsale.orders.tasks.order_email_send", **_RETRYING)
def order_email_send(order_id: int) -> None:
    """Email the buyer their tickets (once per order)."""
    from onsale.orders import fulfilment

    fulfilment.order_tickets_email_send(order_id=order_id)


@shared_task(name="onsale.orders.tasks.order_notice_email_send", **_RETRYING)
def order_notice_email_send(order_id: int, kind: str) -> None:
    """Email the buyer that the order was cancelled or refunded (`kind`), once
    per order and kind."""
    from onsale.orders import fulfilment

    fulfilment.order_notice_email_send(order_id=order_id, kind=kind)


@shared_task(name="onsale.orders.tasks.order_refund", **_RETRYING)
def order_refund(order_id: int) -> None:
    """Refund a closed order's charge (a retry after the provider failed)."""
    from onsale.orders import services

    services.order_refund_ensure(order_id=order_id)


@shared_task(name="onsale.orders.tasks.order_seats_put_back", **_RETRYING)
def order_seats_put_back(order_id: int) -> None:
    """Put a closed order's seats back on sale in Redis (a retry after Redis
    failed). Idempotent; skips seats sold again meanwhile."""
    from onsale.orders import inventory, services

    order = Order.objects.get(pk=order_id)
    if order.state in services.CLOSED_STATES:
        inventory.seats_put_back(order=order)


@shared_task(name="onsale.orders.tasks.orders_fulfil_sweep", acks_late=True)
def orders_fulfil_sweep(older_than_seconds: int = 60) -> int:
    """Beat: enqueue fulfilment again for paid orders still without tickets or
    email a minute after payment, and the cancellation and refund emails
    still unsent a minute after they were owed (their task was lost).
    Idempotent."""
    from onsale.orders import fulfilment

    ids = fulfilment.orders_unfulfilled_ids(older_than_seconds=older_than_seconds)
    for order_id in ids:
        order_fulfil.delay(order_id)
    unsent = fulfilment.order_emails_unsent(older_than_seconds=older_than_seconds)
    for email in unsent:
        order_notice_email_send.delay(email.order_id, email.kind)
    return len(ids) + len(unsent)


@shared_task(name="onsale.orders.tasks.orders_expire_pending", acks_late=True)
def orders_expire_pending(batch: int = 500) -> int:
    """Beat: pending orders past their deadline expire and release their
    seats (and any charge that landed meanwhile is refunded). Returns how many
    this run expired."""
    from django.utils import timezone

    from onsale.orders import services

    ids = list(
        Order.objects.filter(
            state=Order.State.PENDING, expires_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:batch]
    )
    expired = 0
    for order_id in ids:
        if services.order_fail(
            order_id=order_id, reason="expired", to_state=Order.State.EXPIRED
        ):
            expired += 1
    return expired
