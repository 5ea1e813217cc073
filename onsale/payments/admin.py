"""Payment webhooks in the admin site, read-only: which provider events were
processed and when (a receipt is what makes a redelivery harmless)."""

from __future__ import annotations

from django.contrib import admin

from onsale.payments.models import WebhookReceipt
from onsale.platform.admin import SupportAdmin


@admin.register(WebhookReceipt)
class WebhookReceiptAdmin(SupportAdmin[WebhookReceipt]):
    list_display = ("provider", "event_type", "event_id", "received_at")
    list_filter = ("provider", "event_type")
    search_fields = ("=event_id",)
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
