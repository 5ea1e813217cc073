from __future__ import annotations

from typing import Any

import pytest

from onsale.testutils.factories import UserFactory

# The organizer, event and seated_event fixtures are the shared ones
# (onsale/testutils/fixtures.py).


@pytest.fixture
def make_fan(db: Any) -> Any:
    def make() -> Any:
        return UserFactory()

    return make
