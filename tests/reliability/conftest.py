"""Fixtures of the fault drills: the app pointed at a Redis of its own that
the drill may kill, and the small venue most drills sell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from onsale.events.models import Event
from onsale.platform import redis as platform_redis
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.waitingroom import selectors as room_selectors
from tests.faults.redis_server import RedisServer

# 2 rows x 10 seats: few seats, so every drill fights over them.
TINY_MAP: dict[str, Any] = {
    "categories": [{"code": "A", "name": "Stalls", "price": "40.00"}],
    "generate": [
        {"section": "Stalls", "rows": 2, "seats_per_row": 10, "category": "A"}
    ],
}


def _clients_reset() -> None:
    # The factory pools one client per URL; drop them so the next call
    # connects to whatever REDIS_URL now says.
    with platform_redis._clients_lock:
        for client in platform_redis._clients.values():
            client.close()
        platform_redis._clients.clear()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    """A redis-server on a free port that the app uses instead of the shared
    one (REDIS_URL; Django's cache and sessions stay on the shared Redis,
    which the drills never touch)."""
    server = RedisServer()
    server.start()
    settings.REDIS_URL = server.url
    settings.REDIS_SOCKET_TIMEOUT = 0.5
    settings.WAITINGROOM_STATUS_MEMO_MS = 0
    room_selectors._memo.clear()
    _clients_reset()
    try:
        yield server
    finally:
        server.stop()
        _clients_reset()


@pytest.fixture
def seated_event(db: Any) -> Event:
    event = EventFactory()
    seatmap_replace(event=event, data=TINY_MAP)
    return event


def seat_ids(event: Event) -> list[int]:
    return list(event.seats.order_by("index").values_list("pk", flat=True))


def room_open(event: Event, **fields: Any) -> Any:
    """Open the event's waiting room now (on-sale a minute ago), with `fields`
    overriding its defaults, and push it live."""
    from datetime import timedelta

    from django.utils import timezone

    from onsale.testutils.waitingroom import reconfigure
    from onsale.waitingroom.admission import waitingroom_config_ensure

    now = timezone.now()
    config = waitingroom_config_ensure(event_id=event.pk)
    config.onsale_at = now - timedelta(minutes=1)
    config.prequeue_opens_at = now - timedelta(hours=1)
    return reconfigure(config, **fields)


def client_of(user: Any, *, ip: str = "127.0.0.1", token: str | None = None) -> Any:
    from rest_framework.test import APIClient

    client = APIClient(REMOTE_ADDR=ip)
    client.force_authenticate(user)
    if token:
        client.credentials(HTTP_X_ACCESS_TOKEN=token)
    return client


def assert_unavailable(response: Any) -> None:
    """503 with the one error shape and a Retry-After: never a 500."""
    assert response.status_code == 503, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] in {"dependency_unavailable", "not_ready"}
    assert int(response["Retry-After"]) >= 1


def assert_unavailable_page(response: Any, *, place_kept: bool = False) -> None:
    """The branded 503 HTML page with a Retry-After: never a 500. `place_kept`:
    the waiting room's, which says the fan's place is kept."""
    assert response.status_code == 503, (response.status_code, response.content)
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) >= 1
    text = response.content.decode()
    assert "We are busy fixing something" in text
    assert "Try again in a few seconds" in text
    assert ("Your place in the queue is kept" in text) is place_kept
