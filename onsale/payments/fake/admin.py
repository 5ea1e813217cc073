"""The fake provider's ledger in the admin site, read-only: the charges and
refunds a real provider would show on its own dashboard (only installed
where the fake provider is the gateway: development, tests, the demo)."""

from __future__ import annotations

from django.contrib import admin

from onsale.payments.fake.models import (
    FakeProviderCharge,
    FakeProviderEvent,
    FakeProviderRefund,
)
from onsale.platform.admin import SupportAdmin


@admin.register(FakeProviderCharge)
class FakeProviderChargeAdmin(SupportAdmin[FakeProviderCharge]):
    list_display = (
        "id",
        "amount",
        "currency",
        "status",
        "failure_code",
        "amount_refunded",
        "card_last4",
        "created_at",
    )
    list_filter = ("status", "currency", "failure_code")
    search_fields = ("=id", "=idempotency_key", "description")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


@admin.register(FakeProviderRefund)
class FakeProviderRefundAdmin(SupportAdmin[FakeProviderRefund]):
    list_display = ("id", "charge", "amount", "created_at")
    search_fields = ("=id", "=charge__id", "=idempotency_key")
    raw_id_fields = ("charge",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)


@admin.register(FakeProviderEvent)
class FakeProviderEventAdmin(SupportAdmin[FakeProviderEvent]):
    list_display = ("id", "type", "created_at")
    list_filter = ("type",)
    search_fields = ("=id",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
