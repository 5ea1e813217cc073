"""Tests of waitingroom/services.py's organizer configuration services."""

from __future__ import annotations

from typing import Any

import pytest

from onsale.events.exceptions import EventNotFound
from onsale.testutils.factories import EventFactory, OrganizerFactory
from onsale.usermgmt.models import AuditEntry
from onsale.waitingroom import scripts
from onsale.waitingroom.exceptions import InvalidWaitingRoomConfig
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.services import (
    waitingroom_config_get_for_organizer,
    waitingroom_config_update,
)


@pytest.mark.django_db
def test_waitingroom_config_get_for_organizer_creates_defaults(db: Any) -> None:
    # Given an organizer's event with no room configured yet
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization)

    # When
    config = waitingroom_config_get_for_organizer(event_id=event.pk, actor=organizer)

    # Then the room exists, created once
    assert config.event_id == event.pk
    assert WaitingRoomConfig.objects.filter(event_id=event.pk).count() == 1


@pytest.mark.django_db
def test_waitingroom_config_get_for_organizer_keeps_a_turn_ten_minutes(
    db: Any,
) -> None:
    # Given a new event, with the shipped defaults
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization)

    # When its room is created
    config = waitingroom_config_get_for_organizer(event_id=event.pk, actor=organizer)

    # Then an admitted fan has 10 minutes to start, as ticket sites give
    assert config.claim_seconds == 600


@pytest.mark.django_db
def test_waitingroom_config_get_for_organizer_hides_other_events(db: Any) -> None:
    # Given an event of another organization
    event = EventFactory()

    # When / then: not found, and no room was created
    with pytest.raises(EventNotFound):
        waitingroom_config_get_for_organizer(
            event_id=event.pk, actor=OrganizerFactory()
        )
    assert not WaitingRoomConfig.objects.filter(event_id=event.pk).exists()


@pytest.mark.django_db
def test_waitingroom_config_update_saves_audits_and_pushes_live(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given an organizer's room
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization)
    before = waitingroom_config_get_for_organizer(event_id=event.pk, actor=organizer)

    # When the per-fan limit and the rate change
    with django_capture_on_commit_callbacks(execute=True):
        config = waitingroom_config_update(
            event_id=event.pk, actor=organizer, max_seats_per_fan=2, burst=7
        )

    # Then the row has them with the version raised by one
    stored = WaitingRoomConfig.objects.get(event_id=event.pk)
    assert (stored.max_seats_per_fan, stored.burst) == (2, 7)
    assert stored.version == before.version + 1 == config.version
    # and the live copy has them
    assert scripts.live_config_field(event_id=event.pk, name="max_seats") == "2"
    # and the change is audited with before and after
    entry = AuditEntry.objects.get(event_id=event.pk, action="waitingroom.update")
    assert entry.actor_id == organizer.pk
    assert entry.after == {"max_seats_per_fan": 2, "burst": 7}
    assert entry.before == {
        "max_seats_per_fan": before.max_seats_per_fan,
        "burst": before.burst,
    }


@pytest.mark.django_db
def test_waitingroom_config_update_refuses_out_of_range_values(db: Any) -> None:
    # Given an organizer's room
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization)
    before = waitingroom_config_get_for_organizer(event_id=event.pk, actor=organizer)

    # When / then: a limit over 100 is refused
    with pytest.raises(InvalidWaitingRoomConfig):
        waitingroom_config_update(
            event_id=event.pk, actor=organizer, max_seats_per_fan=101
        )

    # and nothing changed
    stored = WaitingRoomConfig.objects.get(event_id=event.pk)
    assert stored.max_seats_per_fan == before.max_seats_per_fan
    assert stored.version == before.version
    assert not AuditEntry.objects.filter(event_id=event.pk).exists()


@pytest.mark.django_db
def test_waitingroom_config_update_refuses_prequeue_after_onsale(db: Any) -> None:
    # Given an organizer's room
    organizer = OrganizerFactory()
    event = EventFactory(organization=organizer.organization)
    before = waitingroom_config_get_for_organizer(event_id=event.pk, actor=organizer)

    # When / then: a pre-queue opening after the on-sale is refused
    with pytest.raises(InvalidWaitingRoomConfig):
        waitingroom_config_update(
            event_id=event.pk,
            actor=organizer,
            prequeue_opens_at=before.onsale_at.replace(year=before.onsale_at.year + 1),
        )

    # and nothing changed
    stored = WaitingRoomConfig.objects.get(event_id=event.pk)
    assert stored.prequeue_opens_at == before.prequeue_opens_at
    assert stored.version == before.version
    assert not AuditEntry.objects.filter(event_id=event.pk).exists()
