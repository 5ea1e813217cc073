"""A real Celery worker process: every line it writes while starting, running
a task (and its failure) and stopping is a documented JSON object."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from onsale.config.celery import app
from onsale.platform.redis import redis_client
from tests.observability.conftest import validate_line

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
# The tests run tasks eagerly; this one sends a real message on purpose.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_worker_lines_are_json_with_the_task_context(tmp_path, log_schema) -> None:
    # Given a worker consuming a queue of its own
    queue = f"obs-worker-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{connection.settings_dict['NAME']}",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        # This machine runs tests as root; Celery warns about that before any
        # logging exists (the image runs as an unprivileged user).
        "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
    }
    output = tmp_path / "worker.log"
    with output.open("w") as sink:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "onsale",
                "--quiet",
                "worker",
                "--pool",
                "solo",
                "--queues",
                queue,
                "--hostname",
                f"{queue}@obs",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    broker = redis_client(url=settings.CELERY_BROKER_URL)
    try:
        # When it runs a task (the platform's gauge task) sent by a request
        app.send_task(
            "onsale.platform.telemetry_gauges_record",
            queue=queue,
            headers={"onsale_request_id": "req-obs-worker", "onsale_event_id": 5},
        )
        deadline = time.monotonic() + 60
        while "succeeded" not in output.read_text():
            assert worker.poll() is None, output.read_text()[-3000:]
            assert time.monotonic() < deadline, output.read_text()[-3000:]
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        broker.delete(queue, f"_kombu.binding.{queue}")

    # Then every line is a documented JSON object from a `worker` process,
    # but for the notice Celery prints from its SIGTERM handler, where it
    # must not log (Logstash keeps it, marked `log_parse_error`)
    lines = [
        line
        for line in output.read_text().splitlines()
        if line.strip() and line != "worker: Warm shutdown (MainProcess)"
    ]
    records = [validate_line(line, log_schema) for line in lines]
    assert {r["process"] for r in records} == {"worker"}
    succeeded = next(r for r in records if "succeeded" in r["message"])
    assert succeeded["task_name"] == "onsale.platform.telemetry_gauges_record"
    assert succeeded["task_id"]
    assert succeeded["task_retries"] == 0
    # The publishing request's context travelled in the task headers
    assert succeeded["request_id"] == "req-obs-worker"
    assert succeeded["event_id"] == 5
    # Lines outside the task carry no task context
    outside = [r for r in records if "ready" in r["message"]]
    assert outside and outside[0].get("task_name") is None
