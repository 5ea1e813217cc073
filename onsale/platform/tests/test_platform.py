"""The platform layer: stdlib `platform`, error shape, request ids, logs,
health probes, the Lua loader and the rate limiter."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connections
from django.db.utils import ConnectionHandler
from django.test import override_settings

from onsale.platform.exceptions import Conflict, exception_handler
from onsale.platform.observability import health
from onsale.platform.observability.logging import ContextFilter, JsonFormatter
from onsale.platform.ratelimit import ratelimit_hit, ratelimit_refund, ratelimit_reset
from onsale.platform.redis import lua_script, redis_client, redis_key

ROOT = Path(__file__).resolve().parents[3]


def test_import_platform_is_the_standard_library_module() -> None:
    # Given the project is importable, when `platform` is imported from it,
    # then it is Python's own module, not a project package.
    code = "import onsale, platform; print(platform.__file__); print(platform.python_version())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test"},
    )
    module_file, version = result.stdout.split()
    assert "site-packages" not in module_file
    assert not module_file.startswith(str(ROOT))
    assert version.count(".") == 2


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)


def test_unknown_api_path_is_json_404(api_client) -> None:
    response = api_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_wrong_method_is_json_405(api_client) -> None:
    response = api_client.get("/api/v1/auth/login")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


def test_unexpected_error_is_json_500_and_logged(caplog) -> None:
    with caplog.at_level(logging.ERROR):
        response = exception_handler(RuntimeError("boom"), {})
    assert response.status_code == 500
    assert_error_shape(response.data, "internal_error")
    assert "boom" not in json.dumps(response.data)
    assert any(record.exc_info for record in caplog.records)


def test_domain_error_maps_to_status_and_retry_after() -> None:
    class SeatTaken(Conflict):
        code = "seat_taken"

    response = exception_handler(SeatTaken(extra={"seat": 3}, retry_after=2), {})
    assert response.status_code == 409
    assert response.data == {
        "code": "seat_taken",
        "message": "The request conflicts with the current state.",
        "extra": {"seat": 3},
    }
    assert response["Retry-After"] == "2"


def test_redis_outage_is_503_with_retry_after() -> None:
    import redis

    response = exception_handler(redis.exceptions.ConnectionError("refused"), {})
    assert response.status_code == 503
    assert_error_shape(response.data, "dependency_unavailable")
    assert response.data["extra"] == {"dependency": "redis"}
    assert response["Retry-After"] == "5"


def test_request_id_is_echoed_or_generated(api_client) -> None:
    given = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    generated = api_client.get("/healthz")
    assert len(generated["X-Request-ID"]) == 32
    hostile = api_client.get("/healthz", HTTP_X_REQUEST_ID="x\n" + "y" * 300)
    assert hostile["X-Request-ID"] != "x\n" + "y" * 300
    assert len(hostile["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_request_log_line_is_json_with_request_id(api_client, fan) -> None:
    # Given a handler that formats like production, on the request logger
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    request_logger = logging.getLogger("onsale.request")
    request_logger.addHandler(handler)
    try:
        api_client.force_authenticate(fan)
        response = api_client.get("/api/v1/auth/me", HTTP_X_REQUEST_ID="req-42")
    finally:
        request_logger.removeHandler(handler)
    assert response.status_code == 200
    records = [json.loads(line) for line in lines]
    assert len(records) == 1
    record = records[0]
    assert record["request_id"] == "req-42"
    assert record["path"] == "/api/v1/auth/me"
    assert record["method"] == "GET"
    assert record["status"] == 200
    assert record["user_id"] == fan.pk
    assert isinstance(record["duration_ms"], float)
    assert record["level"] == "INFO"
    assert record["timestamp"].endswith("+00:00")
    assert record["service"] == "onsale-all"


def test_healthz_is_ok(api_client) -> None:
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_both_answer(api_client) -> None:
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_redis_is_unreachable(api_client) -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        response = api_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["extra"]["failed"] == ["redis"]
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_readyz_is_503_naming_database_when_mysql_is_unreachable(
    api_client, monkeypatch
) -> None:
    settings_dict = dict(connections["default"].settings_dict)
    settings_dict.update(PORT=str(_closed_port()), NAME="onsale_unreachable")
    settings_dict.setdefault("OPTIONS", {})["connect_timeout"] = 2
    unreachable = ConnectionHandler({"default": settings_dict})
    monkeypatch.setattr(health, "connections", unreachable)
    try:
        response = api_client.get("/readyz")
    finally:
        unreachable.close_all()
    assert response.status_code == 503
    assert response.json()["extra"]["failed"] == ["database"]


def test_lua_script_survives_script_flush(tmp_path) -> None:
    lua_dir = tmp_path / "lua"
    lua_dir.mkdir()
    (lua_dir / "echo_incr.lua").write_text(
        "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    )
    script = lua_script(str(tmp_path / "module.py"), "echo_incr")
    key = redis_key("test", "{ev:1}", "counter")
    assert script(keys=[key], args=[2]) == 2
    redis_client().script_flush()
    assert script(keys=[key], args=[3]) == 5
    assert redis_client().script_exists(script.sha) == [True]


def test_ratelimit_is_atomic_under_parallel_hits() -> None:
    # Given a limit of 10, when 50 threads hit at once, then exactly 10 pass.
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(50)

    def hit() -> None:
        barrier.wait()
        result = ratelimit_hit(scope="t", identity="same", limit=10, window_seconds=30)
        with lock:
            results.append(result.allowed)

    threads = [threading.Thread(target=hit) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 10
    refused = ratelimit_hit(scope="t", identity="same", limit=10, window_seconds=30)
    assert not refused.allowed
    assert 1 <= refused.retry_after_seconds <= 30
    assert ratelimit_hit(
        scope="t", identity="other", limit=10, window_seconds=30
    ).allowed


def test_ratelimit_refund_gives_one_hit_back_and_reset_forgets_all() -> None:
    for _ in range(3):
        ratelimit_hit(scope="t", identity="refund", limit=3, window_seconds=30)
    ratelimit_refund(scope="t", identity="refund")
    assert (
        ratelimit_hit(scope="t", identity="refund", limit=3, window_seconds=30).hits
        == 3
    )
    ratelimit_reset(scope="t", identity="refund")
    assert (
        ratelimit_hit(scope="t", identity="refund", limit=3, window_seconds=30).hits
        == 1
    )
    # Nothing to give back: no counter appears, none goes below zero.
    ratelimit_refund(scope="t", identity="never-hit")
    assert (
        ratelimit_hit(scope="t", identity="never-hit", limit=3, window_seconds=30).hits
        == 1
    )


def _ed25519_private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def test_check_deploy_with_production_settings_is_clean() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="onsale.config.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="k" * 20
        + "production-like-secret-0123456789-abcdefghijklmnop",
        DJANGO_ALLOWED_HOSTS="tickets.example.com",
        ONSALE_VAR_DIR=str(ROOT / "var" / "check-deploy"),
        # Production requires the access-token signing key (waitingroom).
        WAITINGROOM_JWT_PRIVATE_KEY=_ed25519_private_pem(),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _production_env_without_secrets() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "WAITINGROOM_JWT_", "PAYMENT_WEBHOOK_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="onsale.config.settings",
        DJANGO_DEBUG="false",
        ONSALE_VAR_DIR=str(ROOT / "var" / "no-secrets"),
    )
    return env


def test_production_settings_refuse_to_serve_without_a_secret_key() -> None:
    env = _production_env_without_secrets()
    for command in (
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:9"],
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "onsale.config.wsgi:application",
        ],
    ):
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        assert result.returncode != 0, command
        assert "DJANGO_SECRET_KEY must be set" in result.stderr, result.stderr[-2000:]


def test_production_settings_refuse_to_serve_without_the_access_token_key() -> None:
    env = _production_env_without_secrets()
    env["DJANGO_SECRET_KEY"] = "k" * 20 + "production-like-secret-0123456789-abcdefgh"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--check-config",
            "onsale.config.wsgi:application",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Access tokens need a signing key" in result.stderr, result.stderr[-2000:]


def _settings_value(env: dict[str, str], name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; "
            f"print(settings.{name})",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_production_settings_refuse_to_serve_without_the_public_url() -> None:
    env = _production_env_without_secrets()
    env.pop("ONSALE_PUBLIC_URL", None)
    env["DJANGO_SECRET_KEY"] = "k" * 20 + "production-like-secret-0123456789-abcdefgh"
    env["WAITINGROOM_JWT_PRIVATE_KEY"] = _ed25519_private_pem()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--check-config",
        "onsale.config.wsgi:application",
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ONSALE_PUBLIC_URL must be set" in result.stderr, result.stderr[-2000:]
    # with it, the same process starts
    env["ONSALE_PUBLIC_URL"] = "https://tickets.example.com"
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_public_url_has_a_development_default_and_must_be_an_address() -> None:
    env = _production_env_without_secrets()
    env.pop("ONSALE_PUBLIC_URL", None)
    env["DJANGO_DEBUG"] = "true"
    result = _settings_value(env, "ONSALE_PUBLIC_URL")
    assert result.stdout.strip() == "http://localhost:8000", result.stderr[-2000:]

    env["ONSALE_PUBLIC_URL"] = "https://tickets.example.com/"
    assert _settings_value(env, "ONSALE_PUBLIC_URL").stdout.strip() == (
        "https://tickets.example.com"
    )

    env["ONSALE_PUBLIC_URL"] = "tickets.example.com"
    result = _settings_value(env, "ONSALE_PUBLIC_URL")
    assert result.returncode != 0
    assert "ONSALE_PUBLIC_URL must be an http(s) address" in result.stderr


def test_management_commands_that_serve_nothing_run_without_secrets() -> None:
    # check (and migrate, collectstatic...) use no secret: no debug mode needed.
    result = _manage_check(_production_env_without_secrets())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def _manage_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_production_hashes_passwords_with_argon2() -> None:
    from onsale.config import settings as production

    assert (
        production.PASSWORD_HASHERS[0]
        == "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


def test_newrelic_stays_off_without_a_key(monkeypatch) -> None:
    import newrelic.agent

    from onsale.platform.observability import newrelic as newrelic_agent
    from onsale.platform.observability.newrelic import newrelic_initialize

    # Switching the (stubbed) agent on must not leak into later tests.
    monkeypatch.setattr(newrelic_agent, "_agent", None)
    calls: list[object] = []
    monkeypatch.setattr(newrelic.agent, "initialize", lambda *a, **k: calls.append(a))
    monkeypatch.delenv("NEW_RELIC_LICENSE_KEY", raising=False)
    monkeypatch.delenv("NEW_RELIC_CONFIG_FILE", raising=False)
    assert newrelic_initialize() is False
    assert calls == []
    monkeypatch.setenv("NEW_RELIC_LICENSE_KEY", "x" * 40)
    assert newrelic_initialize() is True
    assert calls == [(None,)]


@pytest.mark.parametrize(
    "missing", ["CACHE_REDIS_URL", "CELERY_BROKER_URL"], ids=["cache", "broker"]
)
def test_redis_cluster_without_a_plain_redis_for_cache_and_broker_refuses_to_start(
    missing: str,
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_REDIS_URL", "CELERY_BROKER_URL")
    }
    env.update(
        REDIS_CLUSTER="true",
        CACHE_REDIS_URL="redis://127.0.0.1:6379/2",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
    )
    del env[missing]
    result = _manage_check(env)
    assert result.returncode != 0
    assert "REDIS_CLUSTER is on: set CACHE_REDIS_URL" in result.stderr


def test_redis_cluster_outages_are_dependency_failures_and_bugs_are_not() -> None:
    import redis.exceptions as errors

    from onsale.platform.exceptions import dependency_failure

    unreachable = errors.RedisClusterException("Redis Cluster cannot be connected")
    unreachable.__cause__ = errors.ConnectionError("refused")
    outages = [
        errors.ClusterDownError("CLUSTERDOWN The cluster is down"),
        errors.MasterDownError("MASTERDOWN Link with MASTER is down"),
        errors.ClusterError("TTL exhausted."),
        errors.SlotNotCoveredError("Slot 42 not covered by the cluster."),
        unreachable,
    ]
    assert [dependency_failure(exc) for exc in outages] == ["redis"] * len(outages)
    # Keys of two slots in one script: a bug, answered 500 and logged.
    assert dependency_failure(errors.RedisClusterException("CROSSSLOT")) is None
    assert dependency_failure(errors.ResponseError("CROSSSLOT Keys")) is None
