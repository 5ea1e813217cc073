from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _payments_test_settings(payments_test_settings: None) -> None:
    """Every payments test runs on the fake provider without latency or
    faults (onsale/testutils/fixtures.py)."""
