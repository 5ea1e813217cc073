from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory

# A small venue: 5 rows x 10 seats in A, 3 rows x 10 in B, 100 standing places.
SMALL_MAP: dict[str, Any] = {
    "categories": [
        {"code": "A", "name": "Stalls", "price": "50.00"},
        {"code": "B", "name": "Balcony", "price": "30.50"},
        {
            "code": "GA",
            "name": "Standing",
            "price": "25",
            "general_admission": True,
            "capacity": 100,
        },
    ],
    "generate": [
        {"section": "Stalls", "rows": 5, "seats_per_row": 10, "category": "A"},
        {"section": "Balcony", "rows": 3, "seats_per_row": 10, "category": "B"},
    ],
}


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


def seat_ids(event: Event, *, category: str | None = None) -> list[int]:
    """The event's seat ids in index order (optionally of one category)."""
    seats = event.seats.order_by("index")
    if category:
        seats = seats.filter(category__code=category)
    return list(seats.values_list("pk", flat=True))


@pytest.fixture
def make_fan(db: Any) -> Any:
    def make() -> Any:
        return UserFactory()

    return make


def admitted_client(event: Event, user: Any) -> tuple[APIClient, Any]:
    """An API client of `user` carrying a fresh access token for `event`."""
    from onsale.waitingroom.services import admission_session_start

    grant = admission_session_start(event_id=event.pk, user_id=user.pk)
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_X_ACCESS_TOKEN=grant.token)
    return client, grant
