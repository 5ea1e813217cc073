from __future__ import annotations

# The same settings as the payments tests (no latency, no faults).
from onsale.payments.tests.conftest import _payments_test_settings  # noqa: F401
