from __future__ import annotations

import pytest

# The same test settings as checkout's tests (fake provider without latency,
# files in a per-test folder, eager tasks that retry).
from onsale.checkout.tests.conftest import _checkout_test_settings  # noqa: F401
from onsale.testutils.checkout import seated_event


@pytest.fixture
def event(transactional_db):
    return seated_event()
