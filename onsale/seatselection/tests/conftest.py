from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.seats import SMALL_MAP


@pytest.fixture
def organizer(db: Any) -> Any:
    return OrganizerFactory()


@pytest.fixture
def organizer_client(organizer: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(organizer)
    return client


@pytest.fixture
def event(organizer: Any) -> Event:
    return EventFactory(organization=organizer.organization)


@pytest.fixture
def seated_event(event: Event) -> Event:
    seatmap_replace(event=event, data=SMALL_MAP)
    return event


@pytest.fixture
def make_fan(db: Any) -> Any:
    def make() -> Any:
        return UserFactory()

    return make
