from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from onsale.payments import payment_gateway_override


@pytest.fixture(autouse=True)
def _payments_test_settings(settings: Any) -> Iterator[None]:
    # The fake provider without latency or faults (its timeout card fails at
    # once); tests that need either build their own FakeGateway.
    settings.FAKE_PAYMENTS_TIMEOUT_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_FAULT_RATE = 0.0
    yield
    payment_gateway_override(None)
