"""The event model's own field checks (what the admin's forms run)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

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
