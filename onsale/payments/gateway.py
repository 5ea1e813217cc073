"""The payment gateway interface: what checkout needs from a payment provider.

Checkout talks to providers only through `PaymentGateway`. The built-in
`FakeGateway` (fake/gateway.py) implements it for development and tests; a Stripe
adapter is one more class implementing the same five methods (charge with the
provider's idempotency key, find a charge by that key, refund, verify a
webhook). Amounts are `Decimal` in the currency's major unit; an adapter for a
provider that counts minor units converts at its edge.

Errors a gateway raises are plain exceptions of this module, not domain
errors: the saga decides what a decline or a timeout means for an order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class PaymentSource:
    """What the buyer pays with.

    `token` is what a real provider's browser SDK returns (a payment method id);
    our servers never see card numbers then. The fake provider also accepts a
    raw test `card_number`, the way a provider's test mode documents test cards.
    """

    token: str = ""
    card_number: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str = ""

    @property
    def last4(self) -> str:
        digits = self.card_number or self.token
        return digits[-4:]


@dataclass(frozen=True)
class Charge:
    """A charge as the provider reports it. `status` is "succeeded" or "failed"."""

    id: str
    idempotency_key: str
    amount: Decimal
    currency: str
    status: str
    amount_refunded: Decimal = Decimal("0")
    failure_code: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def fully_refunded(self) -> bool:
        return self.succeeded and self.amount_refunded >= self.amount


@dataclass(frozen=True)
class Refund:
    id: str
    charge_id: str
    idempotency_key: str
    amount: Decimal


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: `id` is the provider's event id (deduplicated by the
    receiver), `type` e.g. "charge.succeeded", `data` the object it is about."""

    id: str
    type: str
    created: int
    data: Mapping[str, Any] = field(default_factory=dict)


class PaymentError(Exception):
    """Base of everything a gateway raises."""

    code = "payment_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        if code:
            self.code = code
        super().__init__(message or self.code)


class PaymentDeclined(PaymentError):
    """The provider refused the charge (decline, insufficient funds...). Final:
    retrying with the same idempotency key replays the same decline."""

    code = "card_declined"


class PaymentTransientError(PaymentError):
    """The outcome is unknown (timeout, connection reset, provider overloaded).
    The charge MAY have happened: retry with the same idempotency key, which
    the provider deduplicates, or look the charge up by that key."""

    code = "payment_timeout"


class PaymentRequestInvalid(PaymentError):
    """A request the provider will never accept (unknown charge, refund of a
    failed charge, idempotency key reused with other parameters). A bug, not
    something to retry."""

    code = "payment_request_invalid"


class WebhookSignatureInvalid(PaymentError):
    """The webhook's signature is missing, wrong or outside the replay window."""

    code = "webhook_signature_invalid"


@runtime_checkable
class PaymentGateway(Protocol):
    """A payment provider. Every write takes an idempotency key that the
    PROVIDER deduplicates, so a retry after a timeout can never charge twice."""

    name: str

    def tokenize(self, *, source: PaymentSource) -> str:
        """A reusable payment method id for `source` (a provider SDK's token
        is returned as it is), stored on the order so a retried charge can be
        sent again with the same idempotency key."""
        ...

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
        """Charge `amount`. Raises PaymentDeclined (final), PaymentTransientError
        (unknown outcome: retry with the same key) or PaymentRequestInvalid."""
        ...

    def charge_find(self, *, idempotency_key: str) -> Charge | None:
        """The charge made with this idempotency key, or None if none was made.
        Compensation uses it to learn whether a timed-out charge went through."""
        ...

    def refund(
        self,
        *,
        charge_id: str,
        idempotency_key: str,
        amount: Decimal | None = None,
    ) -> Refund:
        """Refund `amount` (default: whatever is not refunded yet)."""
        ...

    def webhook_verify(
        self, *, payload: bytes, headers: Mapping[str, str]
    ) -> WebhookEvent:
        """Check the signature and replay window; raise WebhookSignatureInvalid."""
        ...


@runtime_checkable
class ChargeLedger(Protocol):
    """A gateway that can list every charge it made (the fake keeps its ledger
    in our database; a real provider's list API would do the same). The
    reconciliation of the ledger with the orders needs it; checkout never
    does."""

    def charges_list(self) -> list[Charge]:
        """Every charge made, failed ones included."""
        ...
