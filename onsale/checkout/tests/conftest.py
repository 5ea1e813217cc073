from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _checkout_test_settings(checkout_test_settings: None) -> None:
    """Every checkout test runs on the checkout test settings
    (onsale/testutils/fixtures.py)."""
