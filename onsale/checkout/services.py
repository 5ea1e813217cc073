"""The checkout saga: hold -> order -> charge -> tickets -> email.

Each step is a local transaction with its compensation:

1. `checkout_order_place`: confirm the seats in MySQL. The hold is read (and
   extended, so it cannot lapse mid-checkout) through the inventory adapter;
   prices come from the server's price categories; the order, its lines and
   (`orders.services.order_create`) one seat-sale row per seat (UNIQUE (event, seat): the last line against a
   double sale) commit together. Then Redis marks the seats sold.
   Compensation: `orders.services.order_fail` releases the seat sales in MySQL
   and puts the seats back on sale in Redis.
2. `checkout_charge_attempt`: charge through the payment gateway with the
   order's payment key (derived from the order id) as the provider's
   idempotency key, so retries never charge twice. A decline compensates at
   once: the order fails and its seat sales are released, but the fan keeps
   the hold (seat selection still holds the seats, back to the hold's own
   expiry) and may pay again, with a new Idempotency-Key, while it lives;
   one live order per hold (`Order.live_hold_id`). An unknown outcome
   (timeout) leaves the order pending, noted so the fan is told the payment
   is being confirmed with the bank, and `tasks.checkout_charge_resolve`
   retries with backoff, compensating (refund whatever was charged, release
   the sale, order `failed`) when it gives up.
3.-4. On success `orders.services.order_mark_paid` commits pending -> paid
   and enqueues fulfilment on commit: tickets, PDF, admission session end,
   email (orders/tasks.py), each idempotent and retried; the hold is retired.

The API answers 201 when the charge completed within the short wait, 202
with the pending order otherwise, and 422 `payment_declined` on a decline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from onsale.checkout.exceptions import (
    CheckoutHoldEmpty,
    WebhookMalformed,
    WebhookProviderUnavailable,
    WebhookSignatureRejected,
)
from onsale.checkout.idempotency import idempotency_order_attach
from onsale.checkout.tasks import (
    checkout_charge_resolve as checkout_charge_resolve_task,
)
from onsale.orders import inventory, refunds
from onsale.orders import selectors as order_selectors
from onsale.orders import services as order_services
from onsale.orders.exceptions import AccessTokenMissing
from onsale.orders.models import Order
from onsale.payments import (
    Charge,
    PaymentDeclined,
    PaymentRequestInvalid,
    PaymentSource,
    PaymentTransientError,
    WebhookSignatureInvalid,
    payment_gateway,
)
from onsale.payments.models import WebhookReceipt
from onsale.usermgmt.models import User

logger = logging.getLogger(__name__)

# The hold is extended to at least this long from the start of checkout, so
# it cannot expire between the hold check and the MySQL commit.
HOLD_EXTEND_SECONDS = 120


@dataclass(frozen=True)
class CheckoutResult:
    """Where the saga stands for one order after a step: `outcome` is "paid",
    "pending" (charge outcome not known yet) or "failed" (with the reason).
    After a decline, `hold_expires_at` says until when the fan still holds
    the seats to pay again (None: the hold is gone)."""

    order: Order
    outcome: str
    reason: str = ""
    hold_expires_at: datetime | None = None


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str
    # The language the fan is shopping in: their order's emails are in it.
    language: str = ""


def _result(order: Order) -> CheckoutResult:
    if order.state == Order.State.PAID:
        return CheckoutResult(order=order, outcome="paid")
    if order.state == Order.State.PENDING:
        return CheckoutResult(order=order, outcome="pending")
    return CheckoutResult(order=order, outcome="failed", reason=order.failure_reason)


def checkout_order_place(
    *,
    user: User,
    event_id: int,
    hold_id: int,
    session_id: str,
    buyer: Buyer,
    payment_token: str,
    idempotency_record_id: int | None = None,
) -> Order:
    """Saga step 1: turn the user's current hold into a pending order that
    owns its seats in MySQL.

    Raises (nothing written then): seat selection's HoldExpired (409) when
    the hold is not the user's current hold (expired, released, sold,
    someone else's: a stale fencing token), CheckoutHoldEmpty, and
    SeatAlreadySold / GeneralAdmissionSoldOut (409) when a seat-sale row for
    one of its seats exists or the places are gone (the UNIQUE constraint and
    the conditional UPDATE decide between concurrent checkouts).
    """
    hold = inventory.hold_for_checkout(
        event_id=event_id,
        user_id=user.pk,
        hold_id=hold_id,
        extend_seconds=HOLD_EXTEND_SECONDS,
    )
    if not hold.lines:
        raise CheckoutHoldEmpty()
    with transaction.atomic():
        order = order_services.order_create(
            user=user,
            hold=hold,
            session_id=session_id,
            buyer_name=buyer.name,
            buyer_email=buyer.email,
            language=buyer.language,
            payment_token=payment_token,
        )
        if idempotency_record_id is not None:
            idempotency_order_attach(record_id=idempotency_record_id, order_id=order.pk)
    # Seat selection marks the seats sold in Redis (and retires the hold)
    # once this transaction has committed.
    return order


def checkout_charge_attempt(
    *, order_id: int, timeout: float | None, order: Order | None = None
) -> CheckoutResult:
    """Saga step 2: charge a pending order once (provider idempotency key =
    the order's payment key). Safe to call any number of times, from the API
    and from the retry task: a non-pending order is reported as it stands.

    Declined (or refused as invalid): the order is compensated now and the
    result is "failed", with when the fan's hold (kept for another attempt)
    expires. Unknown outcome: "pending", the order notes it (the fan is told
    the payment is being confirmed with the bank) and the caller retries.
    `order` saves a read when the caller has just created it.
    """
    if order is None or order.pk != order_id:
        order = order_selectors.order_get(order_id=order_id)
    if order.state != Order.State.PENDING:
        return _result(order)
    try:
        charge = payment_gateway().charge(
            idempotency_key=order.payment_key,
            amount=order.total,
            currency=order.currency,
            source=PaymentSource(token=order.payment_token),
            description=f"onsale order {order.pk}",
            timeout=timeout,
        )
    except (PaymentDeclined, PaymentRequestInvalid) as exc:
        order_services.order_fail(order_id=order_id, reason=exc.code)
        failed = _result(order_selectors.order_get(order_id=order_id))
        return replace(
            failed,
            hold_expires_at=inventory.hold_expires_at(
                event_id=order.event_id, user_id=order.user_id, hold_id=order.hold_id
            ),
        )
    except PaymentTransientError:
        logger.info("charge outcome unknown", extra={"order_id": order_id})
        order_services.order_charge_outcome_unknown(order_id=order_id)
        return _result(order_selectors.order_get(order_id=order_id))
    return _result(order_services.order_mark_paid(order_id=order_id, charge=charge))


def checkout_charge_give_up(*, order_id: int) -> bool:
    """The charge outcome stayed unknown through every retry: compensate
    (release the seats, refund whatever the provider did charge, order
    `failed` with reason payment_timeout). True if this call closed it."""
    return order_services.order_fail(order_id=order_id, reason="payment_timeout")


def checkout_submit(
    *,
    user: User,
    event_id: int,
    hold_id: int,
    session_id: str,
    buyer: Buyer,
    source: PaymentSource,
    idempotency_record_id: int | None = None,
) -> CheckoutResult:
    """The synchronous part of the saga for POST /checkout: step 1, then one
    charge attempt that waits at most settings.CHECKOUT_CHARGE_WAIT_SECONDS.
    An unknown outcome is handed to the retry task (enqueued on commit)."""
    order = checkout_order_place(
        user=user,
        event_id=event_id,
        hold_id=hold_id,
        session_id=session_id,
        buyer=buyer,
        payment_token=payment_gateway().tokenize(source=source),
        idempotency_record_id=idempotency_record_id,
    )
    result = checkout_charge_attempt(
        order_id=order.pk, timeout=settings.CHECKOUT_CHARGE_WAIT_SECONDS, order=order
    )
    if result.outcome == "pending":
        # robust: if the broker is down the order stays pending and the
        # expiry task compensates it (refund included) after its deadline.
        transaction.on_commit(
            lambda: checkout_charge_resolve_task.apply_async((order.pk,), countdown=1),
            robust=True,
        )
    return result


def checkout_submit_or_resume(
    *,
    user: User,
    access_token: str,
    event_id: int | None,
    hold_id: int,
    buyer: Buyer,
    source: PaymentSource,
    idempotency_record_id: int,
    resume_order_id: int | None,
) -> CheckoutResult:
    """POST /checkout once its Idempotency-Key is claimed: a request taking
    over from a dead one (`resume_order_id`) reports that order's saga as it
    stands; any other verifies the access token (AccessTokenMissing without
    one; the event is the request's or the token's) and runs
    `checkout_submit`."""
    if resume_order_id is not None:
        return checkout_result_get(order_id=resume_order_id)
    if not access_token:
        raise AccessTokenMissing()
    event_id = event_id or inventory.access_event_id(token=access_token)
    session_id = inventory.access_verify(
        token=access_token, user=user, event_id=event_id
    )
    return checkout_submit(
        user=user,
        event_id=event_id,
        hold_id=hold_id,
        session_id=session_id,
        buyer=buyer,
        source=source,
        idempotency_record_id=idempotency_record_id,
    )


def checkout_result_get(*, order_id: int) -> CheckoutResult:
    """Where an order's saga stands (for a request resuming a dead one)."""
    return _result(order_selectors.order_get(order_id=order_id))


# --- Webhooks ------------------------------------------------------------------


def _order_id_from_key(key: Any) -> int | None:
    if isinstance(key, str) and key.startswith("order-"):
        rest = key[len("order-") :]
        if rest.isdigit():
            return int(rest)
    return None


def payment_webhook_receive(*, payload: bytes, headers: Mapping[str, str]) -> bool:
    """Handle one provider webhook; True if processed, False if it was a
    duplicate (already processed: acknowledged and ignored).

    The signature and replay window are checked first (WebhookSignatureRejected
    otherwise). Event ids are recorded under a UNIQUE constraint before the
    event is handled; if handling fails the record is removed so the
    provider's redelivery is processed. Events:
    charge.succeeded settles a pending order (refunds a closed one),
    charge.failed fails a pending one, charge.refunded records a refund made at
    the provider (a full one refunds the order and frees its seats).
    """
    gateway = payment_gateway()
    try:
        event = gateway.webhook_verify(payload=payload, headers=headers)
    except WebhookSignatureInvalid as exc:
        logger.warning("webhook signature rejected: %s", exc)
        raise WebhookSignatureRejected() from None
    except PaymentRequestInvalid:
        raise WebhookMalformed() from None
    try:
        with transaction.atomic():
            receipt = WebhookReceipt.objects.create(
                provider=gateway.name, event_id=event.id, event_type=event.type
            )
    except IntegrityError:
        return False
    try:
        _webhook_handle(event_type=event.type, data=dict(event.data))
    except BaseException as exc:
        WebhookReceipt.objects.filter(pk=receipt.pk).delete()
        if isinstance(exc, PaymentTransientError):
            raise WebhookProviderUnavailable() from exc
        raise
    return True


_CHARGE_EVENTS = ("charge.succeeded", "charge.failed", "charge.refunded")


def _webhook_handle(*, event_type: str, data: dict[str, Any]) -> None:
    try:
        reported = Charge(
            id=str(data["charge_id"]),
            idempotency_key=str(data.get("idempotency_key", "")),
            amount=Decimal(str(data["amount"])),
            currency=str(data.get("currency", "")),
            status=str(data.get("status", "")),
            amount_refunded=Decimal(str(data.get("amount_refunded", "0"))),
            failure_code=str(data.get("failure_code", "")),
        )
    except (KeyError, ArithmeticError, ValueError):
        raise WebhookMalformed() from None
    if event_type not in _CHARGE_EVENTS:
        logger.info("webhook ignored", extra={"event_type": event_type})
        return
    # Deliveries come late, twice and out of order: a dashboard refund's event
    # can arrive before the event of the charge it refunds. So the event only
    # says which charge to look at; what is done follows the charge as the
    # provider has it now. (A PaymentTransientError here fails the delivery and
    # the provider sends it again.)
    charge = reported
    if reported.idempotency_key:
        charge = (
            payment_gateway().charge_find(idempotency_key=reported.idempotency_key)
            or reported
        )
    _order_settle_from_charge(charge)
    if charge.succeeded and charge.amount_refunded > 0:
        refunds.order_refunded_by_provider(
            charge_id=charge.id,
            amount_refunded=charge.amount_refunded,
            amount=charge.amount,
        )


def _order_settle_from_charge(charge: Charge) -> None:
    """Bring the order a charge was made for in line with the charge: a
    pending order is paid by a live charge and failed by a failed or fully
    refunded one; a closed order's charge is refunded."""
    order_id = _order_id_from_key(charge.idempotency_key)
    if order_id is None:
        return
    state = order_selectors.order_state_get(order_id=order_id)
    if state == Order.State.PENDING:
        if charge.succeeded and not charge.fully_refunded:
            order_services.order_mark_paid(order_id=order_id, charge=charge)
        elif charge.succeeded:
            # Refunded at the provider before we learnt it had succeeded:
            # the fan has the money back, so the seats go back on sale.
            order_services.order_fail(order_id=order_id, reason="refunded_by_provider")
        else:
            order_services.order_fail(
                order_id=order_id, reason=charge.failure_code or "card_declined"
            )
    elif state in order_services.CLOSED_STATES and charge.succeeded:
        order_services.order_refund_ensure_or_retry(order_id=order_id)
