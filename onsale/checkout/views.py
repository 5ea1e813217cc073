"""Checkout web page: the hold's summary, its countdown, and the payment form
(for the fake provider's test cards). The form posts to the checkout API from
the page's script, with the access token the waiting room left in the
browser and an Idempotency-Key kept across retries of one submission."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import ensure_csrf_cookie

from onsale.orders import inventory
from onsale.payments.fake.cards import (
    DECLINE_CARD,
    INSUFFICIENT_FUNDS_CARD,
    SUCCESS_CARD,
    TIMEOUT_CARD,
)
from onsale.platform.exceptions import DomainError

# The page's own text for a hold it cannot check out, by error code (the
# domain errors' messages stay English); another code shows its message.
CHECKOUT_REFUSALS = {
    "hold_expired": _(
        "Your hold has expired or was released. Go back to the seat map to "
        "choose seats again."
    ),
    "hold_not_found": _("This hold was not found. Go back to the seat map."),
    "access_session_ended": _(
        "Your shopping session has ended. Rejoin the waiting room."
    ),
}


@login_required
@ensure_csrf_cookie
def checkout_page(request: HttpRequest, event_id: int, hold_id: int) -> HttpResponse:
    event = inventory.event_get(event_id=event_id)
    hold = None
    error = ""
    status = 200
    try:
        hold = inventory.hold_for_checkout(
            event_id=event_id,
            user_id=int(request.user.pk or 0),
            hold_id=hold_id,
            extend_seconds=0,
        )
    except DomainError as exc:
        error = str(CHECKOUT_REFUSALS.get(exc.code, exc.message))
        status = 409 if event is not None else 404
    return render(
        request,
        "checkout/checkout.html",
        {
            "event": event,
            "hold": hold,
            "hold_id": hold_id,
            "error": error,
            "buyer_name": getattr(request.user, "full_name", ""),
            "buyer_email": getattr(request.user, "email", ""),
            "test_cards": [
                (SUCCESS_CARD, _("succeeds")),
                (DECLINE_CARD, _("is declined")),
                (INSUFFICIENT_FUNDS_CARD, _("has insufficient funds")),
                (TIMEOUT_CARD, _("times out")),
            ],
        },
        status=status,
    )
