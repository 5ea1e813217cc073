"""Waiting room set-up shared by tests: changing a room's configuration as
the organizer API would."""

from __future__ import annotations

from typing import Any

from onsale.waitingroom.admission import waitingroom_live_config_push
from onsale.waitingroom.models import WaitingRoomConfig


def reconfigure(config: WaitingRoomConfig, **fields: Any) -> WaitingRoomConfig:
    """Change a room as the organizer API would (new version, pushed live)."""
    for name, value in fields.items():
        setattr(config, name, value)
    config.version += 1
    config.save()
    waitingroom_live_config_push(config=config)
    return config
