"""Payments' table: the provider webhooks already processed."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class WebhookReceipt(models.Model):
    """A provider event we have processed: UNIQUE (provider, event_id), so a
    redelivered or replayed event is acknowledged and ignored.

    The table keeps the name it had in checkout (`checkout_webhookreceipt`):
    the model moved, the rows did not."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "checkout_webhookreceipt"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="webhook_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
