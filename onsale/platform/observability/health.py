"""The one dependency check, and the liveness and readiness probes (plain
Django views: no auth, no sessions).

`/readyz`, the staff status page (`ops.py`) and the scrape-time gauges of
`/metrics` all ask MySQL and Redis through `dependency_checks()`, so the three
never disagree about what "up" means.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from redis.exceptions import RedisError

from onsale.platform.redis import redis_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DependencyCheck:
    """One answer (or failure) of a dependency: `name` is "mysql" or "redis",
    `seconds` how long it took, `version` the server's when it was asked for,
    `error` the exception as "Type: message" (not redacted: callers that show
    it to people redact it)."""

    name: str
    up: bool
    seconds: float
    version: str | None
    error: str | None


def _database_check(*, with_version: bool) -> DependencyCheck:
    connection = connections["default"]
    query = (
        "SELECT sqlite_version()"
        if connection.vendor == "sqlite"
        else "SELECT VERSION()"
    )
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            row = cursor.fetchone()
    except DatabaseError as exc:
        seconds = time.perf_counter() - started
        return DependencyCheck(
            "mysql", False, seconds, None, f"{type(exc).__name__}: {exc}"
        )
    seconds = time.perf_counter() - started
    server = None
    if with_version:
        server = f"{connection.vendor} {row[0]}" if row else connection.vendor
    return DependencyCheck("mysql", True, seconds, server, None)


def _redis_check(*, with_version: bool) -> DependencyCheck:
    started = time.perf_counter()
    server = None
    try:
        # The probes only need an answer; INFO (for the version) is the status
        # page's, which staff open by hand.
        if with_version:
            server = str(redis_client().info("server").get("redis_version", ""))
        else:
            redis_client().ping()
    except RedisError as exc:
        seconds = time.perf_counter() - started
        return DependencyCheck(
            "redis", False, seconds, None, f"{type(exc).__name__}: {exc}"
        )
    return DependencyCheck(
        "redis", True, time.perf_counter() - started, server or None, None
    )


def dependency_checks(*, with_versions: bool = False) -> list[DependencyCheck]:
    """Ask MySQL and Redis once each, in that order, timing each answer;
    with_versions also reads each server's version."""
    return [
        _database_check(with_version=with_versions),
        _redis_check(with_version=with_versions),
    ]


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; checks nothing else, so a dependency
    outage never makes Kubernetes restart healthy pods."""
    return JsonResponse({"status": "ok"})


# The probe's own names for the dependencies (its body is public API).
_READYZ_NAMES = {"mysql": "database", "redis": "redis"}


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: the database and Redis both answer. A 503 names
    which one did not, so the probe's log says what to fix."""
    failures = {
        _READYZ_NAMES[check.name]: check.error
        for check in dependency_checks()
        if check.error is not None
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
