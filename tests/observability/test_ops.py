"""`GET /api/v1/ops/status`: staff only; dependencies, versions, Celery and
waiting-room queue states; still answers when a dependency is down."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from onsale.platform.observability import metrics
from onsale.platform.observability.metrics import QueueState
from onsale.platform.redis import redis_client
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.usermgmt.models import User

URL = "/api/v1/ops/status"


@pytest.fixture
def staff_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(role=User.Role.STAFF, is_staff=True))
    return client


@pytest.mark.django_db
def test_anonymous_fans_and_organizers_are_refused(api_client, fan_client) -> None:
    anonymous = api_client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert fan_client.get(URL).status_code == 403
    organizer = APIClient()
    organizer.force_authenticate(OrganizerFactory())
    refused = organizer.get(URL)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_staff_see_dependencies_versions_and_queues(staff_client) -> None:
    queue = f"obs-ops-{uuid.uuid4().hex[:10]}"
    broker = redis_client(url=settings.CELERY_BROKER_URL)
    broker.rpush(queue, "x", "y")
    try:
        with override_settings(METRICS_CELERY_QUEUES=[queue], ONSALE_RELEASE="v42"):
            response = staff_client.get(URL)
    finally:
        broker.delete(queue)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == "onsale-all"
    assert body["release"] == "v42"
    assert body["process"] == "web"
    assert {item["name"]: item["status"] for item in body["dependencies"]} == {
        "mysql": "ok",
        "redis": "ok",
    }
    mysql = body["dependencies"][0]
    assert mysql["version"].startswith("mysql ") and mysql["error"] is None
    assert body["versions"]["newrelic"] == "off"
    assert set(body["versions"]) >= {"onsale", "python", "django", "celery"}
    assert body["celery_queues"] == [{"name": queue, "depth": 2}]
    # No provider registered yet: an empty list, not an error
    assert body["queues"] == []
    assert body["failed_collectors"] == []


@pytest.mark.django_db
def test_queue_states_come_from_the_registered_providers(staff_client) -> None:
    def rooms() -> list[QueueState]:
        return [
            QueueState(9, "paused", 300, 120, 20, 100, 0.0),
            QueueState(3, "open", 10, 10, 4, 50, 120.0),
        ]

    def broken() -> list[QueueState]:
        raise TimeoutError("store down")

    metrics.register_queue_state_provider(rooms, name="test-rooms")
    metrics.register_queue_state_provider(broken, name="test-broken-rooms")
    try:
        body = staff_client.get(URL).json()
    finally:
        metrics.unregister_queue_state_provider("test-rooms")
        metrics.unregister_queue_state_provider("test-broken-rooms")

    assert body["queues"] == [
        {
            "event_id": 3,
            "state": "open",
            "numbers_issued": 10,
            "serving_number": 10,
            "active_sessions": 4,
            "max_active_sessions": 50,
            "admission_rate_per_minute": 120.0,
            "waiting": 0,
            "estimated_wait_seconds": 0.0,
        },
        {
            "event_id": 9,
            "state": "paused",
            "numbers_issued": 300,
            "serving_number": 120,
            "active_sessions": 20,
            "max_active_sessions": 100,
            "admission_rate_per_minute": 0.0,
            "waiting": 180,
            "estimated_wait_seconds": None,
        },
    ]
    assert body["failed_collectors"] == ["test-broken-rooms"]
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_a_redis_outage_is_reported_not_raised(staff_client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = staff_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    redis = next(item for item in body["dependencies"] if item["name"] == "redis")
    assert redis["status"] == "down"
    assert redis["version"] is None
    assert "ConnectionError" in redis["error"]
