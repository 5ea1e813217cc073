"""pytest fixtures shared by the tests of several apps, loaded once for the
whole project as a plugin (the root conftest.py's `pytest_plugins`), so that
no app imports fixtures from another app's conftest.

An organizer with an API client and an event of theirs (with or without the
small seat map), and the test settings of the payments and checkout tests.
The settings fixtures are not autouse here: the conftest of each app whose
tests need them turns them on for its folder. A conftest or test module that
defines a fixture of the same name overrides the one here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery._state import _set_task_join_will_block
from rest_framework.test import APIClient

from onsale.config.celery import app as celery_app
from onsale.events.models import Event
from onsale.payments import payment_gateway_override
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory
from onsale.testutils.seats import SMALL_MAP


@pytest.fixture
def organizer(db: Any) -> Any:
    """An organizer of a new organization."""
    return OrganizerFactory()


@pytest.fixture
def organizer_client(organizer: Any) -> APIClient:
    """An API client logged in as the organizer."""
    client = APIClient()
    client.force_authenticate(organizer)
    return client


@pytest.fixture
def event(organizer: Any) -> Event:
    """A published event of the organizer's organization, without seats."""
    return EventFactory.create(organization=organizer.organization)


@pytest.fixture
def seated_event(event: Event) -> Event:
    """The organizer's event with SMALL_MAP, before its on-sale."""
    seatmap_replace(event=event, data=SMALL_MAP)
    return event


@pytest.fixture
def payments_test_settings(settings: Any) -> Iterator[None]:
    """The fake provider without latency or faults; the gateway override is
    undone afterwards."""
    # Its timeout card fails at once; tests that need latency or faults build
    # their own FakeGateway.
    settings.FAKE_PAYMENTS_TIMEOUT_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_FAULT_RATE = 0.0
    yield
    payment_gateway_override(None)


@pytest.fixture
def checkout_test_settings(settings: Any, tmp_path: Any) -> Iterator[None]:
    """The checkout and orders tests' settings: the fake provider without
    latency or faults, files in a per-test folder, eager tasks that retry."""
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
