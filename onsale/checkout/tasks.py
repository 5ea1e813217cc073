"""Celery wrappers of the checkout services (ids in, idempotent, acks late).

Each task imports its service inside its body and pins its registered name.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError


@shared_task(
    name="onsale.checkout.tasks.checkout_charge_resolve",
    bind=True,
    acks_late=True,
    max_retries=None,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
)
def checkout_charge_resolve(self: Task, order_id: int) -> str:
    """Retry the charge of a pending order whose outcome is unknown, with the
    same provider idempotency key, backing off exponentially; after
    CHECKOUT_CHARGE_MAX_RETRIES unknown outcomes, compensate. A no-op once the
    order is no longer pending."""
    from onsale.checkout import services

    result = services.checkout_charge_attempt(order_id=order_id, timeout=None)
    if result.outcome != "pending":
        return result.outcome
    if self.request.retries >= settings.CHECKOUT_CHARGE_MAX_RETRIES:
        services.checkout_charge_give_up(order_id=order_id)
        return "failed"
    raise self.retry(countdown=min(2 ** (self.request.retries + 1), 60))


@shared_task(name="onsale.checkout.tasks.checkout_idempotency_purge", acks_late=True)
def checkout_idempotency_purge() -> int:
    """Beat: delete Idempotency-Key records past their 24 hours."""
    from onsale.checkout import idempotency

    return idempotency.idempotency_purge_expired()
