"""Fixtures and set-up shared by every test in the project.

Tests run against the real MariaDB and Redis: the run's own database
(`test_onsale_<pid>`) and its own Redis key prefix, both from
`onsale.config.settings_test`. Redis keys under the prefix are removed after
each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.services import mariadb_service, redis_service

# The whole suite's log lines are scanned for secrets (fails the run on a hit).
pytest_plugins = ["tests.observability.secretscan"]


def pytest_configure(config: pytest.Config) -> None:
    try:
        mariadb_service(_database_url()).ensure_running()
        redis_service(settings.REDIS_URL).ensure_running()
    except RuntimeError as exc:
        raise pytest.UsageError(f"Test services unavailable: {exc}") from exc


def _database_url() -> str:
    import os

    return os.environ["DATABASE_URL"]


def redis_flush_prefix() -> None:
    """Remove this run's keys: from the state Redis and, when it is another
    one (REDIS_CLUSTER on), from the Redis of Django's cache and sessions."""
    from onsale.platform.redis import redis_client

    prefix = settings.REDIS_KEY_PREFIX
    urls = {settings.REDIS_URL, settings.CACHE_REDIS_URL}
    for url in sorted(urls):
        client = redis_client(url=url)
        batch: list[str] = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    redis_flush_prefix()
    yield
    redis_flush_prefix()


@pytest.fixture(scope="session", autouse=True)
def _drop_redis_prefix_at_end() -> Iterator[None]:
    yield
    redis_flush_prefix()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def csrf_client() -> APIClient:
    """A client that enforces CSRF checks, as a browser session would."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def fan(db: Any, password: str) -> Any:
    from onsale.testutils.factories import UserFactory

    return UserFactory(password=password)


@pytest.fixture
def fan_client(fan: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(fan)
    return client
