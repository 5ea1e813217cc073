"""The organizer audit log: one entry per change, written with the change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from onsale.usermgmt.models import AuditEntry, Organization, User


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO 8601, decimals as strings (exact)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def audit_record(
    *,
    actor: User | None,
    organization: Organization | int,
    event_id: int | None,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEntry:
    """Write one audit entry: `actor` (None: the system) did `action`
    (`event.create`, `event.update`, `seatmap.replace`, `seats.block`,
    `waitingroom.update`, ...) on `event_id` of `organization`, changing
    `before` into `after` (only the fields that matter; values made
    JSON-safe, sets sorted).

    Call it inside the transaction of the change (it joins it; outside one it
    commits alone), so the log and the change commit or roll back together.
    """
    organization_id = organization if isinstance(organization, int) else organization.pk
    with transaction.atomic():
        return AuditEntry.objects.create(
            organization_id=organization_id,
            event_id=event_id,
            actor=actor,
            actor_email=actor.email if actor is not None else "",
            action=action,
            before=_plain(before),
            after=_plain(after),
        )


def audit_changed(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, from both sides (for edits)."""
    keys = [key for key in after if _plain(before.get(key)) != _plain(after[key])]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def audit_list_for_event(
    *, organization_id: int, event_id: int, limit: int = 200
) -> QuerySet[AuditEntry]:
    """The newest `limit` entries of one event of one organization, newest
    first. Callers check first that the viewer may see the event."""
    return AuditEntry.objects.filter(
        organization_id=organization_id, event_id=event_id
    ).order_by("-id")[:limit]
