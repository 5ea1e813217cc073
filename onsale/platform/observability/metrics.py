"""Prometheus metrics: `/metrics`, and the hooks apps use to contribute gauges.

What is measured where:

- Per request (`RequestContextMiddleware`): `onsale_http_requests_total` and
  `onsale_http_request_duration_seconds`, labelled by method and *route
  template* (never the raw path, so the number of series stays bounded).
  These are in-process counters: the request path makes no network call for
  them.
- Per business event (`telemetry.record_event`): `onsale_business_events_total`.
- At scrape time only: MySQL and Redis health, the depth of the Celery queues
  in the Redis broker, and every gauge the apps contribute through
  `register_collector` and `register_queue_state_provider`.

Several gunicorn workers: each worker is its own process with its own
counters, and a scrape reaches one of them at random. prometheus_client's
multiprocess mode solves exactly this: with `PROMETHEUS_MULTIPROC_DIR` set
(gunicorn.conf.py sets it), every process writes its counters to memory-mapped
files in that directory and `/metrics` sums all of them, so any worker answers
for the whole pod. Counting in Redis instead would put a network round trip on
every request and make Redis (the on-sale's hot spot) a dependency of
observability; the files cost a memory write. Gauges computed at scrape time
(queue depth, dependency health, the apps' gauges) are read live by the worker
that answers, so they need no sharing at all.

Apps contribute gauges, typically from their AppConfig.ready():

    from onsale.platform.observability.metrics import GaugeSample, register_collector

    @register_collector
    def holds_gauges() -> list[GaugeSample]:
        return [GaugeSample("onsale_holds_active", count, {"event_id": event_id})
                for event_id, count in selectors.hold_count_by_event()]

The same collectors feed New Relic from a beat task (telemetry.py), so one
function serves both. docs/observability.md lists the series and names.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

from onsale.platform.exceptions import error_body
from onsale.platform.observability.celery_context import celery_app
from onsale.platform.observability.health import dependency_checks

logger = logging.getLogger(__name__)

# The text format every Prometheus version reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "onsale_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "onsale_http_request_duration_seconds",
    "Time from the first middleware to the response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BUSINESS_EVENTS = Counter(
    "onsale_business_events",
    "Business events recorded (QueueJoin, Admission, HoldCreated, ...), by name.",
    ["name"],
)
ACCOUNT_CACHE = Counter(
    "onsale_account_cache_reads",
    "Account checks of session authentication on the queue's endpoints, by "
    "result: hit (answered by Redis) or miss (read from MySQL).",
    ["result"],
)
ACCOUNT_CACHE_HIT = ACCOUNT_CACHE.labels(result="hit")
ACCOUNT_CACHE_MISS = ACCOUNT_CACHE.labels(result="miss")
# Summed over the live worker processes of the server that is scraped (a dead
# worker's streams stop counting).
SEAT_STREAMS_OPEN = Gauge(
    "onsale_seat_streams_open",
    "Live seat streams (server-sent events) open now.",
    multiprocess_mode="livesum",
)


def http_request_observe(
    *, method: str, route: str, status: int, seconds: float
) -> None:
    """Count one answered request (in-process; no I/O)."""
    method = method if method in HTTP_METHODS else "OTHER"
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


# --- Hooks for the apps ------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSample:
    """One gauge value. `name` is a Prometheus metric name (`onsale_...`);
    `labels` must stay few in values (event ids of live events, states,
    queue names), never user ids or raw paths."""

    name: str
    value: float
    labels: Mapping[str, str | int] = field(default_factory=dict)
    documentation: str = ""


@dataclass(frozen=True)
class QueueState:
    """One event's waiting room as the ops page, the queue gauges and New
    Relic's `QueueSnapshot` events show it.

    `numbers_issued` is the highest queue number handed out, `serving_number`
    the highest number admitted so far; `admission_rate_per_minute` and
    `max_active_sessions` are the configured limits. `state` is the waiting
    room's own state name (e.g. "scheduled", "open", "paused", "closed").
    """

    event_id: int
    state: str
    numbers_issued: int
    serving_number: int
    active_sessions: int
    max_active_sessions: int
    admission_rate_per_minute: float

    @property
    def waiting(self) -> int:
        """Fans holding a number that has not been admitted yet."""
        return max(0, self.numbers_issued - self.serving_number)

    @property
    def estimated_wait_seconds(self) -> float | None:
        """How long the last fan in line waits at the configured rate (the
        max-active cap can make it longer); None when nothing is admitted."""
        if self.admission_rate_per_minute <= 0:
            return None
        return round(self.waiting / self.admission_rate_per_minute * 60, 1)


GaugeCollector = Callable[[], Iterable[GaugeSample]]
QueueStateProvider = Callable[[], Iterable[QueueState]]
_F = TypeVar("_F", bound=Callable[[], Iterable[Any]])

_collectors: dict[str, GaugeCollector] = {}
_queue_state_providers: dict[str, QueueStateProvider] = {}


def _hook_name(fn: Callable[..., Any], name: str | None) -> str:
    return name or f"{fn.__module__}.{fn.__qualname__}"


def register_collector(fn: _F, *, name: str | None = None) -> _F:
    """Have `fn()` (returning GaugeSamples) called on every scrape and by the
    New Relic beat task. Registering the same name again replaces it, so
    calling this from AppConfig.ready() is safe. Usable as a decorator."""
    _collectors[_hook_name(fn, name)] = fn
    return fn


def unregister_collector(name: str) -> None:
    _collectors.pop(name, None)


def register_queue_state_provider(fn: _F, *, name: str | None = None) -> _F:
    """Have `fn()` (returning QueueStates, one per event with a live waiting
    room) feed `/api/v1/ops/status`, the `onsale_queue_*` gauges and New
    Relic's `QueueSnapshot` events. Same replacement rule as collectors."""
    _queue_state_providers[_hook_name(fn, name)] = fn
    return fn


def unregister_queue_state_provider(name: str) -> None:
    _queue_state_providers.pop(name, None)


@dataclass(frozen=True)
class Collected:
    """What the hooks returned, and the names of those that failed."""

    samples: list[GaugeSample]
    queue_states: list[QueueState]
    failed: list[str]


def queue_states_collect() -> tuple[list[QueueState], list[str]]:
    """Every provider's queue states (by event id) and the providers that failed.

    A failing provider is logged and skipped: one broken app must not take
    the ops page or the scrape down with it."""
    states: list[QueueState] = []
    failed: list[str] = []
    for name, provider in list(_queue_state_providers.items()):
        try:
            states.extend(provider())
        except Exception:
            logger.warning(
                "queue state provider failed", extra={"collector": name}, exc_info=True
            )
            failed.append(name)
    states.sort(key=lambda state: state.event_id)
    return states, failed


def queue_state_samples(states: Iterable[QueueState]) -> list[GaugeSample]:
    """The `onsale_queue_*` gauges of some queue states."""
    samples: list[GaugeSample] = []
    for state in states:
        labels = {"event_id": state.event_id}
        samples.append(
            GaugeSample(
                "onsale_queue_state",
                1,
                {"event_id": state.event_id, "state": state.state},
                "The waiting room's state (the label), one series per event.",
            )
        )
        for name, value, documentation in (
            (
                "onsale_queue_numbers_issued",
                state.numbers_issued,
                "Highest queue number handed out.",
            ),
            (
                "onsale_queue_serving_number",
                state.serving_number,
                "Highest queue number admitted.",
            ),
            ("onsale_queue_waiting", state.waiting, "Fans in line, not yet admitted."),
            (
                "onsale_queue_active_sessions",
                state.active_sessions,
                "Admitted sessions not yet finished or expired.",
            ),
            (
                "onsale_queue_max_active_sessions",
                state.max_active_sessions,
                "Configured cap on active sessions.",
            ),
            (
                "onsale_queue_admission_rate_per_minute",
                state.admission_rate_per_minute,
                "Configured admissions per minute.",
            ),
            (
                "onsale_queue_estimated_wait_seconds",
                state.estimated_wait_seconds,
                "Wait of the last fan in line at the configured rate.",
            ),
        ):
            if value is not None:
                samples.append(GaugeSample(name, float(value), labels, documentation))
    return samples


def gauges_collect() -> Collected:
    """Run every collector (the built-in Celery queue depth first) and derive
    the queue gauges from the queue-state providers."""
    samples: list[GaugeSample] = []
    failed: list[str] = []
    for name, collector in [
        ("celery_queues", celery_queue_samples),
        *_collectors.items(),
    ]:
        try:
            samples.extend(collector())
        except Exception:
            logger.warning(
                "metrics collector failed", extra={"collector": name}, exc_info=True
            )
            failed.append(name)
    states, failed_providers = queue_states_collect()
    samples.extend(queue_state_samples(states))
    return Collected(
        samples=samples, queue_states=states, failed=failed + failed_providers
    )


def collector_names() -> list[str]:
    return ["celery_queues", *_collectors, *_queue_state_providers]


# --- Built-in scrape-time gauges ------------------------------------------------------

# kombu's Redis transport keeps priority levels 3, 6 and 9 of a queue in lists
# named `<queue>\x06\x16<priority>`; together with `<queue>` they are its depth.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def celery_queue_names() -> list[str]:
    """The queues the workers consume: METRICS_CELERY_QUEUES, or the default
    queue and every queue named in the Celery routes."""
    configured = list(getattr(settings, "METRICS_CELERY_QUEUES", []) or [])
    if configured:
        return configured
    app = celery_app()
    if app is None:
        return ["celery"]  # Celery's own default, before any app registers
    names = {str(app.conf.task_default_queue or "celery")}
    for route in (app.conf.task_routes or {}).values():
        if isinstance(route, Mapping) and route.get("queue"):
            names.add(str(route["queue"]))
    return sorted(names)


def celery_queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue of the Redis broker (LLEN), or
    nothing when the broker is not Redis."""
    from onsale.platform.redis import redis_client

    broker = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        return {}
    names = celery_queue_names()
    pipe = redis_client(url=broker).pipeline(transaction=False)
    for name in names:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(name + suffix)
    lengths = pipe.execute()
    step = len(_PRIORITY_SUFFIXES)
    return {
        name: sum(int(length) for length in lengths[index * step : (index + 1) * step])
        for index, name in enumerate(names)
    }


def celery_queue_samples() -> list[GaugeSample]:
    return [
        GaugeSample(
            "onsale_celery_queue_length",
            depth,
            {"queue": name},
            "Tasks waiting in the Celery queue (Redis broker LLEN).",
        )
        for name, depth in celery_queue_depths().items()
    ]


class _ScrapeTimeCollector(Collector):
    """Gauges computed when `/metrics` is read, by the worker that answers."""

    def collect(self) -> Iterator[Metric]:
        checks = dependency_checks()
        for check in checks:
            up = GaugeMetricFamily(
                f"onsale_{check.name}_up",
                f"1 when {check.name} answered the scrape's check.",
            )
            up.add_metric([], 1.0 if check.up else 0.0)
            yield up
        seconds = GaugeMetricFamily(
            "onsale_dependency_check_seconds",
            "How long the scrape's check of a dependency took.",
            labels=["dependency"],
        )
        for check in checks:
            seconds.add_metric([check.name], round(check.seconds, 6))
        yield seconds

        collected = gauges_collect()
        families: dict[str, Metric] = {}
        for sample in collected.samples:
            family = families.get(sample.name)
            if family is None:
                family = Metric(
                    sample.name, sample.documentation or sample.name, "gauge"
                )
                families[sample.name] = family
            family.add_sample(
                sample.name,
                {key: str(value) for key, value in sample.labels.items()},
                float(sample.value),
            )
        yield from families.values()

        health = GaugeMetricFamily(
            "onsale_collector_up",
            "1 when the gauge collector or queue-state provider answered the scrape.",
            labels=["collector"],
        )
        for name in collector_names():
            health.add_metric([name], 0.0 if name in collected.failed else 1.0)
        yield health

        info = GaugeMetricFamily(
            "onsale_build_info",
            "The service, release and version this process runs (always 1).",
            labels=["service", "release", "version"],
        )
        info.add_metric(
            [settings.SERVICE_NAME, settings.ONSALE_RELEASE, onsale_version()], 1.0
        )
        yield info


class _InProcessCollector(Collector):
    """The process's own default registry (counters, histograms, process and
    Python metrics) when no multiprocess directory is configured."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def onsale_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("onsale")
    except PackageNotFoundError:
        return "unknown"


def multiprocess_directory() -> str | None:
    """The shared directory, if this process writes its counters there.

    prometheus_client picks the mode once, when it is imported; a directory
    named in the environment only later would hold none of our counters."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's counters (multiprocess mode)
    or this process's, plus the scrape-time gauges."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_InProcessCollector())
    registry.register(_ScrapeTimeCollector())
    return registry


def metrics_text() -> bytes:
    return generate_latest(metrics_registry())


# --- The endpoint ---------------------------------------------------------------------------


def _refuse(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse(error_body(code, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`GET /metrics` for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`.

    No token configured: 403 for everyone (closed unless configured). No or a
    wrong token: 401. The comparison takes constant time. A plain Django view:
    DRF's authentication would look the bearer token up as an API token.
    """
    if request.method not in ("GET", "HEAD"):
        response = _refuse(405, "method_not_allowed", "Only GET is allowed.")
        response["Allow"] = "GET, HEAD"
        return response
    expected = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if not expected:
        return _refuse(403, "metrics_disabled", "METRICS_TOKEN is not configured.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return _refuse(401, "not_authenticated", "A bearer token is required.")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return _refuse(401, "authentication_failed", "The bearer token is not valid.")
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)
