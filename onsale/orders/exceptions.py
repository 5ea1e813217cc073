"""Domain errors of orders (no HTTP here; see platform/exceptions.py)."""

from onsale.platform.exceptions import Conflict, NotAuthenticated, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "There is no such order."


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    message = "There is no such ticket."


class OrderDocumentNotReady(NotFound):
    code = "order_document_not_ready"
    message = "The tickets of this order are not issued yet."


class OrderNotCancellable(Conflict):
    code = "order_not_cancellable"
    message = "Only paid orders can be cancelled."


class RefundWindowClosed(Conflict):
    code = "refund_window_closed"
    message = "This event's refund policy no longer allows cancelling."


class HoldAlreadyCheckedOut(Conflict):
    """A hold has one live order at a time: a second checkout of a hold whose
    order is still being paid (or is paid) is refused; `extra` names that
    order. After a failed payment the hold may be checked out again."""

    code = "hold_already_checked_out"
    message = (
        "These seats are already being paid for in another checkout. See your orders."
    )


class SalesEventNotFound(NotFound):
    code = "event_not_found"
    message = "There is no such event."


class AccessTokenMissing(NotAuthenticated):
    """Checkout without the waiting room's X-Access-Token. Raised by the
    inventory port, which verifies the token, so it lives with it in orders."""

    code = "access_token_required"
    message = "This needs an access token from the waiting room (X-Access-Token)."
