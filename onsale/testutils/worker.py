"""The `worker_start` fixture: real Celery worker processes for the tests
that need one (the checkout end to end test, the reliability drills), on the
test run's database and Redis prefix. A test module imports the fixture (and
names it in `__all__`) so pytest finds it there."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from onsale.config.celery import app as celery_app
from onsale.testutils.worker_command import worker_command

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    check: Callable[[], Any], timeout: float = 90.0, every: float = 0.2
) -> Any:
    """Polls `check` until it returns something true, and returns that; fails
    the test after `timeout` seconds (a worker is slow on a busy machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting for the worker")


def _reset_broker_connections() -> None:
    # New broker options apply to connections made from now on. The pools
    # themselves are kombu's, shared by the process: dropped, never closed.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker_start(settings: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Starts `celery worker` subprocesses on the test database, Redis prefix
    and a broker key prefix of their own (this process publishes there from
    now on); each call starts one, waits until it is ready and returns its
    `subprocess.Popen`; `extra_env` adds to its environment. Emails go to
    `tmp_path / "mail"`. Workers still
    running at the end are stopped."""
    prefix = django_settings.REDIS_KEY_PREFIX + "broker:"
    emails, media = tmp_path / "mail", tmp_path / "media"
    emails.mkdir()
    settings.MEDIA_ROOT = str(media)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.testutils.worker_settings",
        "ONSALE_WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "ONSALE_WORKER_EMAIL_DIR": str(emails),
        "ONSALE_WORKER_MEDIA_ROOT": str(media),
        "ONSALE_BROKER_KEY_PREFIX": prefix,
        "REDIS_KEY_PREFIX": django_settings.REDIS_KEY_PREFIX,
        "FAKE_PAYMENTS_TIMEOUT_LATENCY_MS": "0",
        "CHECKOUT_CHARGE_MAX_RETRIES": "1",
    }
    started: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log_path = tmp_path / f"worker-{len(started)}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            worker_command(solo=True, loglevel="INFO"),
            cwd=ROOT,
            env={**env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        wait_for(lambda: "ready" in log_path.read_text(), timeout=120)
        return process

    # This process publishes to the same prefixed broker keys, for real.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {**options, "global_keyprefix": prefix}
    _reset_broker_connections()
    try:
        yield start
    finally:
        for process, log in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
        celery_app.conf.broker_transport_options = options
        _reset_broker_connections()
