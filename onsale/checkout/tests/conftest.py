from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery._state import _set_task_join_will_block

from onsale.config.celery import app as celery_app
from onsale.payments import payment_gateway_override


@pytest.fixture(autouse=True)
def _checkout_test_settings(settings: Any, tmp_path: Any) -> Iterator[None]:
    # The fake timeout card fails at once; files go to a per-test folder.
    settings.FAKE_PAYMENTS_TIMEOUT_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_FAULT_RATE = 0.0
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Eager tasks retry as a worker would (Celery re-applies a retried eager
    # task only when errors do not propagate); a task's failure then shows in
    # the state the test asserts, not as an exception in the caller.
    # (Celery reads its configuration live from Django's settings.)
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    assert celery_app.conf.task_eager_propagates is False
    yield
    payment_gateway_override(None)
    # Eager tasks run from many threads (the race tests) save and restore
    # Celery's process-wide "joining a result would block" flag out of order
    # and can leave it set, which breaks later `.get()` calls: reset it.
    _set_task_join_will_block(False)
