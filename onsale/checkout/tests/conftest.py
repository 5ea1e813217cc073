from __future__ import annotations

import pytest

from onsale.testutils.checkout import seated_event


@pytest.fixture(autouse=True)
def _checkout_test_settings(checkout_test_settings: None) -> None:
    """Every checkout test runs on the checkout test settings
    (onsale/testutils/fixtures.py)."""


@pytest.fixture
def event(transactional_db):
    """A published event on sale with a small seat map (testutils.checkout)."""
    return seated_event()


@pytest.fixture
def run_on_commit():
    """Call the block; its on-commit hooks run as its transactions commit."""

    def run(call, *args, **kwargs):
        return call(*args, **kwargs)

    return run
