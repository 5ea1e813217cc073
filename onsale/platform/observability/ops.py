"""`GET /api/v1/ops/status`: one page for staff during an on-sale.

It summarises what this pod depends on (MySQL and Redis: up, latency,
server version), what it runs (service, release, library versions, whether
New Relic is on), the Celery queue depths, and every live waiting room as
the waiting room reports it through `metrics.register_queue_state_provider`
(an empty list until one is registered). It answers 200 even when a
dependency is down: that is when it is needed most.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiTypes, extend_schema
from redis.exceptions import RedisError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.platform.observability import metrics
from onsale.platform.observability.health import DependencyCheck, dependency_checks
from onsale.platform.observability.logging import process_role
from onsale.platform.observability.newrelic import newrelic_agent
from onsale.platform.observability.redaction import redact_text


class IsPlatformStaff(BasePermission):
    """Users with the staff role (not organizers, not fans)."""

    message = "Only platform staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and getattr(user, "is_platform_staff", False)
        )


@dataclass(frozen=True)
class DependencyStatus:
    name: str
    status: str  # "ok" or "down"
    latency_ms: float
    version: str | None
    error: str | None


@dataclass(frozen=True)
class CeleryQueueStatus:
    name: str
    depth: int | None


@dataclass(frozen=True)
class OpsStatus:
    status: str  # "ok", or "degraded" when a dependency or hook failed
    service: str
    process: str
    host: str
    release: str
    checked_at: datetime
    versions: dict[str, str]
    dependencies: list[DependencyStatus]
    celery_queues: list[CeleryQueueStatus]
    queues: list[metrics.QueueState]
    failed_collectors: list[str]


def _dependency_status(check: DependencyCheck) -> DependencyStatus:
    return DependencyStatus(
        check.name,
        "ok" if check.up else "down",
        round(check.seconds * 1000, 2),
        check.version,
        redact_text(check.error) if check.error is not None else None,
    )


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def ops_status_get() -> OpsStatus:
    """The status page's content, read live (nothing cached: staff open it
    when something is wrong). A dependency that is down, a queue depth that
    cannot be read or a failing queue-state provider makes it "degraded"."""
    dependencies = [
        _dependency_status(check) for check in dependency_checks(with_versions=True)
    ]
    failed: list[str] = []
    try:
        depths: dict[str, int | None] = dict(metrics.celery_queue_depths())
    except RedisError:
        depths = dict.fromkeys(metrics.celery_queue_names())
        failed.append("celery_queues")
    states, failed_providers = metrics.queue_states_collect()
    failed.extend(failed_providers)
    healthy = all(item.status == "ok" for item in dependencies) and not failed
    return OpsStatus(
        status="ok" if healthy else "degraded",
        service=settings.SERVICE_NAME,
        process=process_role(),
        host=settings.HOSTNAME,
        release=settings.ONSALE_RELEASE,
        checked_at=datetime.now(tz=UTC),
        versions={
            "onsale": metrics.onsale_version(),
            "python": platform.python_version(),
            "django": _package_version("django"),
            "djangorestframework": _package_version("djangorestframework"),
            "celery": _package_version("celery"),
            "redis-py": _package_version("redis"),
            "newrelic": "on" if newrelic_agent() is not None else "off",
        },
        dependencies=dependencies,
        celery_queues=[
            CeleryQueueStatus(name, depth) for name, depth in depths.items()
        ],
        queues=states,
        failed_collectors=failed,
    )


def _queue_state_data(state: metrics.QueueState) -> dict[str, Any]:
    return {
        **asdict(state),
        "waiting": state.waiting,
        "estimated_wait_seconds": state.estimated_wait_seconds,
    }


class OpsStatusApi(APIView):
    """Dependencies, versions and queue states of the pod that answers."""

    permission_classes = (IsPlatformStaff,)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        status = ops_status_get()
        return Response(
            {
                "status": status.status,
                "service": status.service,
                "process": status.process,
                "host": status.host,
                "release": status.release,
                "checked_at": status.checked_at.isoformat(),
                "versions": status.versions,
                "dependencies": [asdict(item) for item in status.dependencies],
                "celery_queues": [asdict(item) for item in status.celery_queues],
                "queues": [_queue_state_data(state) for state in status.queues],
                "failed_collectors": status.failed_collectors,
            }
        )
