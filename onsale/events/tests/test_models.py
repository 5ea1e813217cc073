"""The event model's own field checks (what the admin's forms run)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from onsale.events.models import Event
from onsale.testutils.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("time_zone", ["Europe", "Mars/Base", "tzdata.zi", ""])
def test_an_unknown_time_zone_fails_the_field_check(time_zone):
    event = EventFactory.build(time_zone=time_zone)

    with pytest.raises(ValidationError) as raised:
        event.full_clean(exclude=["organization"])

    assert list(raised.value.message_dict) == ["time_zone"]


def test_a_known_time_zone_passes_the_field_check():
    event = EventFactory.build(time_zone="America/Argentina/Buenos_Aires")

    event.full_clean(exclude=["organization"])


def test_zone_is_the_events_own_or_the_sites_for_a_name_written_around_the_checks(
    settings,
):
    settings.TIME_ZONE = "UTC"
    event = EventFactory(time_zone="Pacific/Auckland")
    Event.objects.filter(pk=event.pk).update(time_zone="Europe")
    broken = Event.objects.get(pk=event.pk)

    assert event.zone.key == "Pacific/Auckland"
    assert broken.zone.key == "UTC"
