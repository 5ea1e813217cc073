"""Checkout's tables: idempotency records, received webhooks, and the ledger of
the built-in fake payment provider.

The fake provider's tables stand for a provider's own database: only
`payments/fake.py` writes them, always in its own transaction (never inside
one of checkout's, which could roll a "provider-side" charge back). The
reconciliation (`services.payments_reconcile`) compares them with the orders.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a (user, Idempotency-Key) pair, kept 24 hours.

    UNIQUE (user, key): of two concurrent requests with one key exactly one
    inserts the record and runs; the other waits for its response or gets
    `idempotency_request_in_progress`. `request_hash` is a keyed hash of the
    body, so the same key with another body is refused. `locked_until` lets a
    later request take over a record whose request died mid-way (the process
    was killed) instead of waiting forever. Kept in MySQL, not Redis, so a
    Redis failover cannot make a paid checkout run a second time.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.IN_PROGRESS
    )
    order_id = models.BigIntegerField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    locked_until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"idempotency {self.user_id}/{self.key} {self.state}"


class WebhookReceipt(models.Model):
    """A provider event we have processed: UNIQUE (provider, event_id), so a
    redelivered or replayed event is acknowledged and ignored."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="webhook_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


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

    def __str__(self) -> str:
        return f"{self.id} {self.amount} of {self.charge_id}"


class FakeProviderEvent(models.Model):
    """An event the fake provider would deliver as a webhook."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.id} {self.type}"
