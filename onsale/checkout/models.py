"""Checkout's table: the Idempotency-Key records of POST /checkout."""

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
