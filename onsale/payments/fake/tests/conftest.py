from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _payments_test_settings(payments_test_settings: None) -> None:
    """The same settings as the payments tests (no latency, no faults)."""
