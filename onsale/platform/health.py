"""Liveness and readiness probes (plain Django views: no auth, no sessions)."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError

from onsale.platform.redis import redis_client

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; checks nothing else, so a dependency
    outage never makes Kubernetes restart healthy pods."""
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_redis() -> str | None:
    try:
        redis_client().ping()
    except RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: the database and Redis both answer. A 503 names
    which one did not, so the probe's log says what to fix."""
    failures = {
        name: error
        for name, error in (("database", check_database()), ("redis", check_redis()))
        if error is not None
    }
    if failures:
        logger.warning("not ready", extra={"failures": list(failures)})
        return JsonResponse(
            {
                "code": "not_ready",
                "message": "A dependency is unavailable.",
                "extra": {"failed": sorted(failures), "errors": failures},
            },
            status=503,
            headers={"Retry-After": "5"},
        )
    return JsonResponse({"status": "ok", "checks": {"database": "ok", "redis": "ok"}})
