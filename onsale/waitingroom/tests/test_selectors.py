"""Tests of waitingroom/selectors.py's reads that the API tests do not name."""

from __future__ import annotations

from typing import Any

import pytest

from onsale.platform.redis import redis_client
from onsale.testutils.factories import EventFactory
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom.admission import waitingroom_config_ensure
from onsale.waitingroom.keys import waitingroom_key
from onsale.waitingroom.selectors import max_seats_per_fan_get


@pytest.mark.django_db
def test_max_seats_per_fan_get_reads_the_live_copy(db: Any) -> None:
    # Given a room whose limit was changed and pushed live
    config = waitingroom_config_ensure(event_id=EventFactory().pk)
    reconfigure(config, max_seats_per_fan=3)

    # When / then: the live copy answers
    assert max_seats_per_fan_get(event_id=config.event_id) == 3


@pytest.mark.django_db
def test_max_seats_per_fan_get_falls_back_to_mysql_without_live_copy(
    db: Any,
) -> None:
    # Given a room whose live copy in Redis was lost
    config = waitingroom_config_ensure(event_id=EventFactory().pk)
    reconfigure(config, max_seats_per_fan=5)
    redis_client().delete(waitingroom_key(config.event_id, "cfg"))

    # When
    found = max_seats_per_fan_get(event_id=config.event_id)

    # Then MySQL answers, and the read does not put the copy back itself
    assert found == 5
    assert redis_client().exists(waitingroom_key(config.event_id, "cfg")) == 0
