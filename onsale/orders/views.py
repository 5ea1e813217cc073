"""Order web pages: my orders, order detail (confirmation, tickets with QR
codes, PDF, cancel)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from django_stubs_ext import StrOrPromise

from onsale.orders import refunds, selectors
from onsale.orders.models import Order
from onsale.platform.exceptions import DomainError
from onsale.usermgmt.models import User

# What the order page says when a cancellation is refused, in the fan's
# language (the API answers with the error's own message and the same code).
CANCEL_REFUSALS = {
    "order_not_cancellable": _("Only paid orders can be cancelled."),
    "refund_window_closed": _(
        "This event's refund policy no longer allows cancelling."
    ),
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def order_list_page(request: HttpRequest) -> HttpResponse:
    orders = selectors.order_list_for_user(user=_user(request), limit=100)
    return render(request, "orders/order_list.html", {"orders": orders})


def _detail(
    request: HttpRequest, order: Order, error: StrOrPromise = "", status: int = 200
) -> HttpResponse:
    lines = list(order.lines.all())
    tickets = [
        line.ticket
        for line in lines
        if hasattr(line, "ticket") and line.ticket.voided_at is None
    ]
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "tickets": tickets if order.state == Order.State.PAID else [],
            "placed": request.GET.get("placed") == "1",
            "cancellable": order.state == Order.State.PAID
            and refunds.refund_policy_allows(event=order.event),
            "error": error,
            "payment_status": selectors.order_payment_status(order=order),
        },
        status=status,
    )


@login_required
def order_detail_page(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = selectors.order_get_for_owner(order_id=order_id, user=_user(request))
    except DomainError:
        return render(request, "orders/not_found.html", status=404)
    return _detail(request, order)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """GET asks the fan to confirm (cancelling cannot be undone: the tickets
    stop working); POST cancels and refunds."""
    try:
        order = selectors.order_get_for_owner(order_id=order_id, user=_user(request))
    except DomainError:
        return render(request, "orders/not_found.html", status=404)
    if request.method == "GET":
        if not (
            order.state == Order.State.PAID
            and refunds.refund_policy_allows(event=order.event)
        ):
            return redirect("orders:order-detail-page", order_id=order.pk)
        return render(request, "orders/order_cancel.html", {"order": order})
    try:
        refunds.order_cancel(order=order)
    except DomainError as exc:
        refusal = CANCEL_REFUSALS.get(exc.code, exc.message)
        return _detail(request, order, error=refusal, status=409)
    return redirect("orders:order-detail-page", order_id=order.pk)
