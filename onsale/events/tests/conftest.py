from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.testutils.factories import EventFactory, OrganizerFactory


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
