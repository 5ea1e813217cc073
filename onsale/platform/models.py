"""Platform-wide records that belong to no single app: the organizer audit log."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One organizer change: who did what to which event, with the values
    before and after, and when.

    Written by `audit.audit_record` inside the transaction of the change it
    describes, so a rolled-back change leaves no entry and a committed one
    always has one. `event_id` is a plain integer (no foreign key): the log
    outlives the event and the platform app must not depend on the catalog.
    `actor_email` keeps who it was even if the user is deleted later; `actor`
    is empty for changes made by the system (demo loader, management commands).
    """

    organization = models.ForeignKey(
        "usermgmt.Organization", on_delete=models.CASCADE, related_name="+"
    )
    event_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.CharField(max_length=254, blank=True, default="")
    action = models.CharField(max_length=64)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["organization", "event_id", "-id"],
                name="audit_org_event_recent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.action} on event {self.event_id} by {self.actor_email or 'system'}"
        )
