"""The fake provider's ledger: the tables stand for a provider's own database.

Only `payments/fake/gateway.py` writes them, always in its own transaction
(never inside one of checkout's, which could roll a "provider-side" charge
back). The ledger reconciliation (`orders/ledger_reconcile.py`) compares them,
through the gateway, with the orders. The tables keep the names they had when
the models lived in checkout (`checkout_fakeprovider*`): the models moved, the
rows did not.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class FakeProviderCharge(models.Model):
    """The fake provider's charge ledger: one row per idempotency key (UNIQUE),
    as a real provider deduplicates. A failed (declined) charge is kept too, so
    a retry with the same key replays the decline. `card_last4` only: the
    provider never keeps the card number."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=40)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_code = models.CharField(max_length=40, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    card_last4 = models.CharField(max_length=4, blank=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "checkout_fakeprovidercharge"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount")),
                name="fake_charge_refund_within_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"


class FakeProviderRefund(models.Model):
    """A refund in the fake provider's ledger; UNIQUE idempotency key."""

    id = models.CharField(primary_key=True, max_length=40)
    charge = models.ForeignKey(
        FakeProviderCharge, on_delete=models.PROTECT, related_name="refunds"
    )
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "checkout_fakeproviderrefund"

    def __str__(self) -> str:
        return f"{self.id} {self.amount} of {self.charge_id}"


class FakeProviderEvent(models.Model):
    """An event the fake provider would deliver as a webhook."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "checkout_fakeproviderevent"

    def __str__(self) -> str:
        return f"{self.id} {self.type}"
