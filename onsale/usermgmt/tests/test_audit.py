"""Tests of usermgmt/audit.py: writing and reading the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from onsale.testutils.factories import OrganizationFactory, OrganizerFactory
from onsale.usermgmt.audit import audit_changed, audit_list_for_event, audit_record
from onsale.usermgmt.models import AuditEntry


@pytest.mark.django_db
def test_audit_record_stores_json_safe_values(db: Any) -> None:
    # Given an organizer
    organizer = OrganizerFactory()
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

    # When a change with a datetime, a decimal and a set is recorded
    entry = audit_record(
        actor=organizer,
        organization=organizer.organization,
        event_id=42,
        action="event.update",
        before={"price": Decimal("10.50"), "labels": {"b", "a"}},
        after={"onsale_at": moment},
    )

    # Then it is stored with the actor's email and JSON-safe values
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.organization_id == organizer.organization_id
    assert (stored.event_id, stored.action) == (42, "event.update")
    assert (stored.actor_id, stored.actor_email) == (organizer.pk, organizer.email)
    assert stored.before == {"price": "10.50", "labels": ["a", "b"]}
    assert stored.after == {"onsale_at": "2026-01-02T03:04:05+00:00"}


@pytest.mark.django_db
def test_audit_record_by_the_system_has_no_actor(db: Any) -> None:
    # Given an organization, by id
    organization = OrganizationFactory()

    # When the system records an action
    entry = audit_record(
        actor=None,
        organization=organization.pk,
        event_id=None,
        action="seats.block",
        before={},
        after={"seats": 1},
    )

    # Then no actor is named
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.actor_id, stored.actor_email) == (None, "")
    assert stored.organization_id == organization.pk


def test_audit_changed_keeps_only_the_differing_keys() -> None:
    # Given an edit where only the name really changed
    before = {"name": "Old", "price": Decimal("5.0"), "venue": "Arena"}
    after = {"name": "New", "price": Decimal("5.0"), "venue": "Arena"}

    # When / then
    assert audit_changed(before, after) == ({"name": "Old"}, {"name": "New"})
    assert audit_changed(after, after) == ({}, {})


@pytest.mark.django_db
def test_audit_list_for_event_newest_first_of_that_event_only(db: Any) -> None:
    # Given entries of two events of one organization, and of another one
    organization = OrganizationFactory()
    other = OrganizationFactory()

    def record(org: Any, event_id: int, action: str) -> AuditEntry:
        return audit_record(
            actor=None,
            organization=org,
            event_id=event_id,
            action=action,
            before={},
            after={},
        )

    first = record(organization, 1, "event.create")
    record(organization, 2, "event.create")
    record(other, 1, "event.create")
    second = record(organization, 1, "event.update")

    # When
    entries = list(audit_list_for_event(organization_id=organization.pk, event_id=1))
    limited = list(
        audit_list_for_event(organization_id=organization.pk, event_id=1, limit=1)
    )

    # Then only that event of that organization, newest first, up to the limit
    assert [entry.pk for entry in entries] == [second.pk, first.pk]
    assert [entry.pk for entry in limited] == [second.pk]
