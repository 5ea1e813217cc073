"""`/metrics`: refused without the token, the named series with it, bounded
route labels, the collector hooks, and several gunicorn workers counted as one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from onsale.platform.observability import metrics
from onsale.platform.observability.metrics import GaugeSample, QueueState
from onsale.platform.redis import redis_client
from tests.observability.conftest import validate_line

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-tests-0123456789"
URLS = "tests.observability.urls"


def scrape(
    client: Client | None = None,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an authorised scrape, keyed by (name, sorted labels)."""
    response = (client or Client()).get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(response.content.decode())


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code


@override_settings(METRICS_TOKEN=TOKEN)
def test_anonymous_and_wrong_tokens_are_refused() -> None:
    client = Client()
    anonymous = client.get("/metrics")
    assert_error(anonymous, 401, "not_authenticated")
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"onsale_" not in anonymous.content
    assert_error(
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope"),
        401,
        "authentication_failed",
    )
    assert_error(
        client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}"),
        401,
        "not_authenticated",
    )
    assert_error(
        client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"),
        405,
        "method_not_allowed",
    )


@override_settings(METRICS_TOKEN="")
def test_without_a_configured_token_the_endpoint_is_closed() -> None:
    assert_error(
        Client().get("/metrics", HTTP_AUTHORIZATION="Bearer "), 403, "metrics_disabled"
    )
    assert_error(Client().get("/metrics"), 403, "metrics_disabled")


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN, ROOT_URLCONF=URLS)
def test_requests_are_counted_by_route_template_not_raw_path() -> None:
    client = Client()
    route = "/api/v1/events/<int:event_id>/work"
    key = (
        "onsale_http_requests_total",
        (("method", "GET"), ("route", route), ("status", "200")),
    )
    before = scrape(client).get(key, 0.0)

    for event_id in (101, 102, 103):
        assert client.get(f"/api/v1/events/{event_id}/work").status_code == 200
    client.get("/no/such/path/9981")

    samples = scrape(client)
    assert samples[key] == before + 3
    count_key = (
        "onsale_http_request_duration_seconds_count",
        (("method", "GET"), ("route", route)),
    )
    inf_key = (
        "onsale_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("route", route)),
    )
    assert samples[inf_key] == samples[count_key] >= 3
    routes = {
        dict(labels).get("route")
        for name, labels in samples
        if name == "onsale_http_requests_total"
    }
    assert "<unmatched>" in routes
    assert not any(r and ("101" in r or "9981" in r) for r in routes)


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_dependency_health_and_build_info_are_exposed() -> None:
    samples = scrape()
    assert samples[("onsale_mysql_up", ())] == 1.0
    assert samples[("onsale_redis_up", ())] == 1.0
    assert samples[("onsale_dependency_check_seconds", (("dependency", "redis"),))] >= 0
    info = [labels for name, labels in samples if name == "onsale_build_info"]
    assert info == [
        (
            ("release", ""),
            ("service", "onsale-all"),
            ("version", metrics.onsale_version()),
        )
    ]


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN, REDIS_URL="redis://127.0.0.1:1/0")
def test_a_redis_outage_shows_as_redis_down_not_an_error() -> None:
    samples = scrape()
    assert samples[("onsale_redis_up", ())] == 0.0
    assert samples[("onsale_mysql_up", ())] == 1.0
    # Celery depth reads the broker (still reachable); nothing failed to render.
    assert samples[("onsale_collector_up", (("collector", "celery_queues"),))] == 1.0


@pytest.mark.django_db
def test_celery_queue_depth_is_the_broker_llen() -> None:
    queue = f"obs-test-{uuid.uuid4().hex[:12]}"
    broker = redis_client(url=settings.CELERY_BROKER_URL)
    broker.rpush(queue, "a", "b", "c")
    broker.rpush(queue + "\x06\x163", "high-priority")
    try:
        with override_settings(
            METRICS_TOKEN=TOKEN, METRICS_CELERY_QUEUES=[queue, queue + "-empty"]
        ):
            samples = scrape()
    finally:
        broker.delete(queue, queue + "\x06\x163")
    assert samples[("onsale_celery_queue_length", (("queue", queue),))] == 4.0
    assert (
        samples[("onsale_celery_queue_length", (("queue", queue + "-empty"),))] == 0.0
    )


def test_default_celery_queues_are_those_of_the_routes() -> None:
    assert metrics.celery_queue_names() == [
        "checkout",
        "default",
        "orders",
        "seatselection",
        "waitingroom",
    ]


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_apps_contribute_gauges_and_a_broken_collector_does_not_break_the_scrape(
    log_lines,
) -> None:
    def holds() -> list[GaugeSample]:
        return [
            GaugeSample("onsale_holds_active", 5, {"event_id": 7}, "Holds alive."),
            GaugeSample("onsale_holds_active", 2, {"event_id": 8}),
        ]

    def broken() -> list[GaugeSample]:
        raise ConnectionError("the app's store is down")

    def rooms() -> list[QueueState]:
        return [QueueState(7, "open", 1500, 1000, 80, 100, 600.0)]

    metrics.register_collector(holds, name="test-holds")
    metrics.register_collector(broken, name="test-broken")
    metrics.register_queue_state_provider(rooms, name="test-rooms")
    try:
        samples = scrape()
    finally:
        metrics.unregister_collector("test-holds")
        metrics.unregister_collector("test-broken")
        metrics.unregister_queue_state_provider("test-rooms")

    assert samples[("onsale_holds_active", (("event_id", "7"),))] == 5.0
    assert samples[("onsale_holds_active", (("event_id", "8"),))] == 2.0
    assert samples[("onsale_collector_up", (("collector", "test-holds"),))] == 1.0
    assert samples[("onsale_collector_up", (("collector", "test-broken"),))] == 0.0
    assert samples[("onsale_collector_up", (("collector", "test-rooms"),))] == 1.0
    event = (("event_id", "7"),)
    assert (
        samples[("onsale_queue_state", (("event_id", "7"), ("state", "open")))] == 1.0
    )
    assert samples[("onsale_queue_waiting", event)] == 500.0
    assert samples[("onsale_queue_serving_number", event)] == 1000.0
    assert samples[("onsale_queue_numbers_issued", event)] == 1500.0
    assert samples[("onsale_queue_active_sessions", event)] == 80.0
    assert samples[("onsale_queue_max_active_sessions", event)] == 100.0
    assert samples[("onsale_queue_admission_rate_per_minute", event)] == 600.0
    assert samples[("onsale_queue_estimated_wait_seconds", event)] == 50.0
    assert any('"collector": "test-broken"' in line for line in log_lines)


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_business_events_are_counted_by_name() -> None:
    from onsale.platform.observability.telemetry import record_event

    key = ("onsale_business_events_total", (("name", "HoldRejected"),))
    before = scrape().get(key, 0.0)
    record_event("HoldRejected", event_id=3, reason="seat_taken")
    record_event("HoldRejected", event_id=3, reason="seat_taken")
    record_event("SomethingElse", event_id=3)  # not a business event: no series
    samples = scrape()
    assert samples[key] == before + 2
    assert not any(dict(labels).get("name") == "SomethingElse" for _, labels in samples)


def test_the_request_path_makes_no_network_call_for_metrics(monkeypatch) -> None:
    # Counting a request touches only in-process counters: with every
    # socket refused, it still works.
    def no_network(*args, **kwargs):
        raise AssertionError("the metrics hot path opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    metrics.http_request_observe(
        method="GET", route="/healthz", status=200, seconds=0.01
    )
    metrics.http_request_observe(
        method="BREW", route="/healthz", status=405, seconds=0.01
    )
    other = metrics.REQUESTS.labels("OTHER", "/healthz", "405")._value.get()
    assert other >= 1


# --- Several gunicorn workers ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    # Only ever http://127.0.0.1:<port> of the gunicorn this test started.
    request = urllib.request.Request(url, headers={"Host": "localhost"})  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.django_db
def test_gunicorn_workers_are_counted_together_and_log_json(
    tmp_path, log_schema
) -> None:
    # Given gunicorn with two single-threaded workers, as configured in
    # gunicorn.conf.py, with access lines on
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{database}",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "1",
        "GUNICORN_ACCESS_LOG": "-",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
    }
    env.pop("ONSALE_PROMETHEUS_DIR_READY", None)
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("w") as out, stderr.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, stderr.read_text()[-2000:]
            assert server.poll() is None, stderr.read_text()[-2000:]
            time.sleep(0.1)

        # When requests arrive concurrently until both workers have answered
        sent = 1  # the readiness probe above
        lock = threading.Lock()

        def hit() -> None:
            nonlocal sent
            for _ in range(10):
                assert _get(f"{base}/healthz")[0] == 200
                with lock:
                    sent += 1

        for _ in range(20):
            threads = [threading.Thread(target=hit) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                break
        assert len(list(metrics_dir.glob("counter_*.db"))) >= 2, (
            "one worker took every request"
        )

        # Then every scrape, whichever worker answers it, counts all of them
        key = (
            "onsale_http_requests_total",
            (("method", "GET"), ("route", "/healthz"), ("status", "200")),
        )
        for _ in range(6):
            status, body = _get(f"{base}/metrics", TOKEN)
            assert status == 200
            samples = parse(body.decode())
            assert samples[key] == sent
            assert samples[("onsale_redis_up", ())] == 1.0
            assert samples[("onsale_mysql_up", ())] == 1.0
        assert _get(f"{base}/metrics")[0] == 401
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    # And every line gunicorn and Django wrote is a documented JSON object
    lines = [
        line
        for line in (stdout.read_text() + stderr.read_text()).splitlines()
        if line.strip()
    ]
    records = [validate_line(line, log_schema) for line in lines]
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert len(access) >= sent
    assert {r["process"] for r in records} == {"web"}
    probe = next(r for r in access if r["path"] == "/healthz")
    assert (probe["method"], probe["status"]) == ("GET", 200)
    assert isinstance(probe["duration_ms"], float)
    assert probe["request_id"] is not None
    assert any(r["logger"] == "gunicorn.error" for r in records)
