"""Domain errors of checkout (no HTTP here; see platform/exceptions.py)."""

from onsale.platform.exceptions import (
    Conflict,
    Forbidden,
    InvalidInput,
    Unavailable,
)


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"
    message = "This request needs an Idempotency-Key header."


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"
    message = "The Idempotency-Key must be 1 to 255 visible ASCII characters."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request."


class IdempotencyRequestInProgress(Conflict):
    code = "idempotency_request_in_progress"
    message = "A request with this Idempotency-Key is still running; retry shortly."


class CheckoutHoldEmpty(InvalidInput):
    code = "hold_empty"
    message = "The hold has no seats."


class PaymentDeclined(InvalidInput):
    """The provider refused the card. The order is `failed`, its seat sales
    released; the fan's hold is kept for another try until it expires.
    `extra` names the order, the provider's decline code, the hold and when
    it expires (None: it is gone)."""

    code = "payment_declined"
    message = "The payment was declined."


class WebhookSignatureRejected(Forbidden):
    code = "webhook_signature_invalid"
    message = "The webhook signature is missing, wrong or too old."


class WebhookMalformed(InvalidInput):
    code = "webhook_malformed"
    message = "The webhook body is not a valid event."


class WebhookProviderUnavailable(Unavailable):
    code = "webhook_provider_unavailable"
    message = (
        "The payment provider could not be asked about this event; "
        "deliver it again later."
    )
