from __future__ import annotations

import pytest

from onsale.testutils.checkout import seated_event


@pytest.fixture(autouse=True)
def _checkout_test_settings(checkout_test_settings: None) -> None:
    """The same test settings as checkout's tests (fake provider without
    latency, files in a per-test folder, eager tasks that retry)."""


@pytest.fixture
def event(transactional_db):
    return seated_event()
