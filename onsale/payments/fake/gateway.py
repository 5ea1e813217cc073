"""The built-in fake payment provider, for development, tests and load tests.

It behaves like a real provider in every way checkout depends on, without any
network call:

- test cards (as in a provider's test mode):
    4242 4242 4242 4242  succeeds
    4000 0000 0000 0002  declined (card_declined)
    4000 0000 0000 9995  declined (insufficient_funds)
    4000 0000 0000 0408  times out: the money IS taken, then the call fails
                         with PaymentTransientError, on every retry too, as a
                         processor link that is down would. Only a lookup
                         (`charge_find`) or a webhook tells the truth.
  any other number is declined (invalid_number). A `token` "tok_<number>"
  stands for the card <number>, like a browser SDK's payment method id.
- configurable latency; a call slower than the caller's `timeout` times out
  after `timeout` seconds, possibly having charged, like a real socket timeout;
- its own idempotency keys (UNIQUE in its ledger): a retry with the same key
  returns the first result, the same key with another amount is refused;
- refunds (idempotent too), including refunds made "in the provider's
  dashboard" (`refund_from_dashboard`) that reach us only by webhook;
- signed webhooks for every charge and refund (`webhook_request`);
- fault injection for drills: with probability `fault_rate` a call times out,
  half of those after having charged.

Its ledger lives in MySQL (the payments_fake app's FakeProvider* tables) so reconciliation can
compare it with the orders. It writes in its own transactions; callers must not
call it inside theirs (checkout never does: a provider cannot be rolled back).
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from onsale.payments.fake.cards import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    SUCCESS_CARD,
    TIMEOUT_CARD,
)
from onsale.payments.fake.models import (
    FakeProviderCharge,
    FakeProviderEvent,
    FakeProviderRefund,
)
from onsale.payments.gateway import (
    Charge,
    PaymentDeclined,
    PaymentRequestInvalid,
    PaymentSource,
    PaymentTransientError,
    Refund,
    WebhookEvent,
)
from onsale.payments.webhooks import (
    SIGNATURE_HEADER,
    webhook_signature,
    webhook_signature_verify,
)
from onsale.platform.db import locked

_TEST_CARDS = {SUCCESS_CARD, DECLINE_CARD, INSUFFICIENT_FUNDS_CARD, TIMEOUT_CARD}

_DECLINES = {
    DECLINE_CARD: "card_declined",
    INSUFFICIENT_FUNDS_CARD: "insufficient_funds",
}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _card_number(source: PaymentSource) -> str:
    if source.card_number:
        return "".join(ch for ch in source.card_number if ch.isdigit())
    if source.token.startswith("tok_"):
        return "".join(ch for ch in source.token[4:] if ch.isdigit())
    return ""


def _as_charge(row: FakeProviderCharge) -> Charge:
    return Charge(
        id=row.id,
        idempotency_key=row.idempotency_key,
        amount=Decimal(row.amount),
        currency=row.currency,
        status=row.status,
        amount_refunded=Decimal(row.amount_refunded),
        failure_code=row.failure_code,
    )


def _as_refund(row: FakeProviderRefund) -> Refund:
    return Refund(
        id=row.id,
        charge_id=row.charge_id,
        idempotency_key=row.idempotency_key,
        amount=Decimal(row.amount),
    )


class FakeGateway:
    """A `PaymentGateway` backed by the fake provider's ledger tables."""

    name = "fake"

    def __init__(
        self,
        *,
        webhook_secret: str,
        latency_seconds: float = 0.0,
        timeout_latency_seconds: float = 0.0,
        webhook_tolerance_seconds: int = 300,
        fault_rate: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.latency_seconds = latency_seconds
        self.timeout_latency_seconds = timeout_latency_seconds
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self.fault_rate = fault_rate
        self.rng = rng or random.Random()

    # --- charges -------------------------------------------------------------

    def tokenize(self, *, source: PaymentSource) -> str:
        """`tok_<number>` for the test cards (the fake provider's test tokens
        name their card); any other number becomes a token that keeps only
        its last four digits (and is declined as invalid), so a real card
        number typed into the test form is never stored."""
        number = _card_number(source)
        if number in _TEST_CARDS:
            return f"tok_{number}"
        return f"tok_unknown_{number[-4:]}"

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        source: PaymentSource,
        description: str = "",
        timeout: float | None = None,
    ) -> Charge:
        number = _card_number(source)
        latency = self.latency_seconds
        if number == TIMEOUT_CARD:
            latency = max(latency, self.timeout_latency_seconds)
        timed_out = timeout is not None and latency > timeout
        self._sleep(min(latency, timeout) if timeout is not None else latency)

        fault = self._fault()
        if fault == "before":
            raise PaymentTransientError("injected timeout before charging")

        row = self._charge_record(
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency,
            number=number,
            description=description,
        )
        if number == TIMEOUT_CARD or timed_out or fault == "after":
            # The charge went through on the provider's side; the answer is lost.
            raise PaymentTransientError("timed out waiting for the provider")
        if row.status == FakeProviderCharge.Status.FAILED:
            raise PaymentDeclined(row.failure_code, code=row.failure_code)
        return _as_charge(row)

    def _charge_record(
        self,
        *,
        idempotency_key: str,
        amount: Decimal,
        currency: str,
        number: str,
        description: str,
    ) -> FakeProviderCharge:
        # Insert first: a first attempt (the common case) costs one round
        # trip; a retry or a concurrent duplicate hits the UNIQUE key and
        # answers as the first did.
        failure = _DECLINES.get(number, "")
        if number not in (SUCCESS_CARD, TIMEOUT_CARD) and not failure:
            failure = "invalid_number"
        candidate = FakeProviderCharge(
            id=_new_id("ch"),
            idempotency_key=idempotency_key,
            amount=amount,
            currency=currency.upper(),
            status=(
                FakeProviderCharge.Status.FAILED
                if failure
                else FakeProviderCharge.Status.SUCCEEDED
            ),
            failure_code=failure,
            card_last4=number[-4:],
            description=description[:200],
        )
        try:
            with transaction.atomic():
                candidate.save(force_insert=True)
                self._event_record(
                    "charge.succeeded" if not failure else "charge.failed",
                    self._charge_data(candidate),
                )
            return candidate
        except IntegrityError:
            existing = FakeProviderCharge.objects.get(idempotency_key=idempotency_key)
        if existing.amount != amount or existing.currency != currency.upper():
            raise PaymentRequestInvalid(
                "idempotency key reused with other parameters",
                code="idempotency_key_reused",
            )
        return existing

    def charge_find(self, *, idempotency_key: str) -> Charge | None:
        row = FakeProviderCharge.objects.filter(idempotency_key=idempotency_key).first()
        return _as_charge(row) if row is not None else None

    def charges_list(self) -> list[Charge]:
        """Every charge in the ledger, failed ones too (`ChargeLedger`), for
        the reconciliation with the orders. No latency or faults: it is an
        operator's report, not a call checkout makes."""
        return [_as_charge(row) for row in FakeProviderCharge.objects.all()]

    # --- refunds -------------------------------------------------------------

    def refund(
        self,
        *,
        charge_id: str,
        idempotency_key: str,
        amount: Decimal | None = None,
    ) -> Refund:
        self._sleep(self.latency_seconds)
        existing = FakeProviderRefund.objects.filter(
            idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _as_refund(existing)
        try:
            with transaction.atomic():
                charge = locked(FakeProviderCharge.objects.filter(pk=charge_id)).first()
                if (
                    charge is None
                    or charge.status != FakeProviderCharge.Status.SUCCEEDED
                ):
                    raise PaymentRequestInvalid(
                        "no such succeeded charge", code="charge_not_refundable"
                    )
                remaining = Decimal(charge.amount) - Decimal(charge.amount_refunded)
                value = remaining if amount is None else amount
                if value <= 0 or value > remaining:
                    raise PaymentRequestInvalid(
                        "nothing left to refund", code="refund_exceeds_charge"
                    )
                FakeProviderCharge.objects.filter(pk=charge.pk).update(
                    amount_refunded=F("amount_refunded") + value
                )
                row = FakeProviderRefund.objects.create(
                    id=_new_id("re"),
                    charge=charge,
                    idempotency_key=idempotency_key,
                    amount=value,
                )
                charge.refresh_from_db()
                self._event_record(
                    "charge.refunded",
                    {**self._charge_data(charge), "refund_id": row.id},
                )
        except IntegrityError:
            return _as_refund(
                FakeProviderRefund.objects.get(idempotency_key=idempotency_key)
            )
        return _as_refund(row)

    def refund_from_dashboard(self, *, charge_id: str) -> Refund:
        """A refund an operator makes in the provider's dashboard: checkout
        learns of it only through the `charge.refunded` webhook."""
        return self.refund(charge_id=charge_id, idempotency_key=_new_id("dash"))

    # --- webhooks ------------------------------------------------------------

    def webhook_verify(
        self, *, payload: bytes, headers: Mapping[str, str]
    ) -> WebhookEvent:
        webhook_signature_verify(
            secrets=[self.webhook_secret],
            payload=payload,
            header=headers.get(SIGNATURE_HEADER),
            tolerance_seconds=self.webhook_tolerance_seconds,
        )
        try:
            body = json.loads(payload)
            return WebhookEvent(
                id=str(body["id"]),
                type=str(body["type"]),
                created=int(body["created"]),
                data=dict(body["data"]),
            )
        except (ValueError, KeyError, TypeError):
            raise PaymentRequestInvalid(
                "malformed webhook body", code="webhook_malformed"
            ) from None

    def webhook_request(
        self, *, event_id: str, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers the provider would POST for one of its events."""
        event = FakeProviderEvent.objects.get(pk=event_id)
        payload = json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "created": int(event.created_at.timestamp()),
                "data": event.data,
            },
            sort_keys=True,
        ).encode()
        signed_at = int(time.time()) if timestamp is None else timestamp
        header = webhook_signature(
            secret=self.webhook_secret, payload=payload, timestamp=signed_at
        )
        return payload, {SIGNATURE_HEADER: header, "Content-Type": "application/json"}

    # --- internals -----------------------------------------------------------

    def _fault(self) -> str:
        if self.fault_rate <= 0 or self.rng.random() >= self.fault_rate:
            return ""
        return "before" if self.rng.random() < 0.5 else "after"

    @staticmethod
    def _sleep(seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    @staticmethod
    def _charge_data(charge: FakeProviderCharge) -> dict[str, Any]:
        return {
            "charge_id": charge.id,
            "idempotency_key": charge.idempotency_key,
            "amount": str(charge.amount),
            "amount_refunded": str(charge.amount_refunded),
            "currency": charge.currency,
            "status": charge.status,
            "failure_code": charge.failure_code,
        }

    @staticmethod
    def _event_record(event_type: str, data: dict[str, Any]) -> None:
        FakeProviderEvent.objects.create(id=_new_id("evt"), type=event_type, data=data)
