"""Orders and tickets in the admin site, read-only for support: an order
changes state only through the orders services (conditional updates, refunds
through the provider), and tickets are issued and voided there. The stored
payment method is not shown; a ticket is found by its exact code."""

from __future__ import annotations

from django.contrib import admin

from onsale.orders.models import Order, OrderLine, RefundPolicy, Ticket
from onsale.platform.admin import SupportAdmin, SupportInline


class OrderLineInline(SupportInline):
    model = OrderLine
    fields = ("seat_label", "category_name", "price")
    readonly_fields = fields


class TicketInline(SupportInline):
    model = Ticket
    fields = ("code", "line", "issued_at", "voided_at")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(SupportAdmin[Order]):
    list_display = (
        "id",
        "event",
        "buyer_email",
        "state",
        "total",
        "currency",
        "payment_provider",
        "created_at",
        "paid_at",
    )
    list_filter = ("state", "payment_provider", "currency")
    search_fields = (
        "=id",
        "buyer_email",
        "buyer_name",
        "user__email",
        "=charge_id",
        "=refund_id",
        "=event__id",
    )
    list_select_related = ("event",)
    raw_id_fields = ("user", "event")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    exclude = ("payment_token",)
    inlines = (OrderLineInline, TicketInline)


@admin.register(Ticket)
class TicketAdmin(SupportAdmin[Ticket]):
    list_display = ("id", "code", "order", "event", "issued_at", "voided_at")
    list_filter = (("voided_at", admin.EmptyFieldListFilter),)
    search_fields = ("=id", "=code", "=order__id", "order__buyer_email")
    list_select_related = ("order", "event")
    raw_id_fields = ("order", "line", "event")
    date_hierarchy = "issued_at"
    ordering = ("-issued_at",)


@admin.register(RefundPolicy)
class RefundPolicyAdmin(SupportAdmin[RefundPolicy]):
    list_display = ("event", "refunds_allowed", "cutoff_hours")
    list_filter = ("refunds_allowed",)
    search_fields = ("=event__id", "event__name")
    list_select_related = ("event",)
