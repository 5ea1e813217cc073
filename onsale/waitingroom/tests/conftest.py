from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from onsale.events.models import Event
from onsale.testutils.factories import EventFactory
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import selectors
from onsale.waitingroom.admission import (
    waitingroom_config_ensure,
)
from onsale.waitingroom.clock import clock_inject
from onsale.waitingroom.models import WaitingRoomConfig


@pytest.fixture(autouse=True)
def _waitingroom_test_settings(settings: Any) -> Iterator[None]:
    # Scripts may be given the clock; the status memo would hide changes
    # between two calls in one test.
    settings.WAITINGROOM_CLOCK_INJECTION = True
    settings.WAITINGROOM_STATUS_MEMO_MS = 0
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 100_000
    selectors._memo.clear()
    yield
    clock_inject(None)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def t0() -> int:
    """A pinned clock (ms), a whole second, for tests that move time themselves."""
    now = (int(time.time()) + 1) * 1000
    clock_inject(now)
    return now


RoomMaker = Callable[..., WaitingRoomConfig]


@pytest.fixture
def make_room(db: Any) -> RoomMaker:
    """An event with a waiting room configured as asked, live in Redis.

    `onsale_at` / `prequeue_opens_at` default to an open room (on-sale a
    minute ago by the pinned or real clock)."""

    def make(
        *,
        event: Event | None = None,
        now_ms: int | None = None,
        onsale_in: float = -60,
        prequeue_opens_in: float = -3600,
        **fields: Any,
    ) -> WaitingRoomConfig:
        now = datetime.fromtimestamp(
            (now_ms if now_ms is not None else time.time() * 1000) / 1000, tz=UTC
        )
        onsale_at = now + timedelta(seconds=onsale_in)
        if event is None:
            event = EventFactory(onsale_at=onsale_at)
        config = waitingroom_config_ensure(event_id=event.pk)
        config.onsale_at = onsale_at
        config.prequeue_opens_at = min(
            now + timedelta(seconds=prequeue_opens_in), onsale_at
        )
        return reconfigure(config, **fields)

    return make
