"""JSON log lines: every line written during a request, a task and an error
matches the documented schema; the schema, the code and the Elasticsearch
index template agree; Celery is wired to log the same way."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from celery import shared_task, signals
from django.test import Client, override_settings

from onsale.platform import context
from onsale.platform.observability import celery_context
from onsale.platform.observability import logging as onsale_logging
from onsale.platform.observability.logging import ALWAYS_PRESENT, LOG_FIELDS
from tests.observability.conftest import load_json, validate_line

URLS = "tests.observability.urls"
task_logger = logging.getLogger("tests.observability.task")


@shared_task(name="tests.observability.log_in_task", bind=True)
def log_in_task(self: Any, event_id: int) -> str:
    task_logger.info("inside the task", extra={"step": "one"})
    return str(self.request.id)


@shared_task(name="tests.observability.fail_in_task")
def fail_in_task() -> None:
    # Eager tasks (the tests) skip Celery's own failure line; a real worker's
    # is checked in test_worker_process.py.
    try:
        raise LookupError("the task broke")
    except LookupError:
        task_logger.exception("the task failed")
        raise


def test_code_fields_are_the_documented_schema(log_schema) -> None:
    documented = {name: spec["type"] for name, spec in log_schema["fields"].items()}
    assert documented == LOG_FIELDS
    assert tuple(log_schema["required"]) == ALWAYS_PRESENT


def _flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            flat.update(_flatten(spec["properties"], f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = spec["type"]
    return flat


def test_index_template_maps_exactly_the_documented_fields(log_schema) -> None:
    template = load_json("elasticsearch/index-template.json")
    mapping = template["template"]["mappings"]
    documented = {
        name: spec["type"]
        for name, spec in {
            **log_schema["fields"],
            **log_schema["pipeline_fields"],
        }.items()
    }
    assert _flatten(mapping["properties"]) == documented
    # Unknown keys never create mappings: everything else goes under `extra`.
    assert mapping["dynamic"] is False
    assert template["index_patterns"] == ["onsale-logs-*"]
    assert (
        template["template"]["settings"]["index"]["lifecycle"]["name"] == "onsale-logs"
    )
    policy = load_json("elasticsearch/ilm-policy.json")
    assert policy["policy"]["phases"]["delete"]["actions"] == {"delete": {}}


def test_the_configured_handler_uses_the_json_formatter_and_context() -> None:
    from django.conf import settings

    handler = settings.LOGGING["handlers"]["stdout"]
    formatter = settings.LOGGING["formatters"][handler["formatter"]]
    assert formatter["()"] == "onsale.platform.observability.logging.JsonFormatter"
    filters = [settings.LOGGING["filters"][name]["()"] for name in handler["filters"]]
    assert filters == ["onsale.platform.observability.logging.ContextFilter"]
    assert settings.LOGGING["root"]["handlers"] == ["stdout"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_every_line_of_a_request_matches_the_schema(log_lines, log_schema) -> None:
    # Given a view that logs, reached with a caller's request id
    response = Client().get("/api/v1/events/42/work", HTTP_X_REQUEST_ID="req-obs-1")

    # Then every line is a valid object carrying the request's context
    assert response.status_code == 200
    records = [validate_line(line, log_schema) for line in log_lines]
    view_line, request_line = (
        next(r for r in records if r["logger"] == name)
        for name in ("tests.observability.views", "onsale.request")
    )
    assert view_line["request_id"] == "req-obs-1"
    assert view_line["event_id"] == 42
    assert view_line["route"] == "/api/v1/events/<int:event_id>/work"
    assert view_line["extra"] == {"seats": 2}
    assert view_line["process"] == "web"
    assert request_line["request_id"] == "req-obs-1"
    assert request_line["event_id"] == 42
    assert request_line["method"] == "GET"
    assert request_line["path"] == "/api/v1/events/42/work"
    assert request_line["route"] == "/api/v1/events/<int:event_id>/work"
    assert request_line["status"] == 200
    assert request_line["level"] == "INFO"
    assert isinstance(request_line["duration_ms"], float)
    assert request_line["service"] == "onsale-all"
    assert request_line["trace_id"] is None  # no New Relic agent here
    # And the context does not outlive the request
    assert context.request_id_var.get() is None
    assert context.event_id_var.get() is None
    assert context.route_var.get() is None


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_every_line_of_an_error_matches_the_schema(log_lines, log_schema) -> None:
    # Given an API view that fails unexpectedly
    response = Client().get("/api/v1/boom", HTTP_X_REQUEST_ID="req-obs-2")

    # Then the error line carries the traceback and its class, and the
    # request line says 500 at ERROR level
    assert response.status_code == 500
    records = [validate_line(line, log_schema) for line in log_lines]
    error = next(r for r in records if r["logger"] == "onsale.platform.exceptions")
    assert error["level"] == "ERROR"
    assert error["error_type"] == "RuntimeError"
    assert "the view broke" in error["exc_info"]
    assert error["request_id"] == "req-obs-2"
    assert error["route"] == "/api/v1/boom"
    request_line = next(r for r in records if r["logger"] == "onsale.request")
    assert (request_line["status"], request_line["level"]) == (500, "ERROR")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_lines_of_a_plain_django_error_match_the_schema(log_lines, log_schema) -> None:
    response = Client(raise_request_exception=False).get("/plain-boom")

    assert response.status_code == 500
    records = [validate_line(line, log_schema) for line in log_lines]
    django_line = next(r for r in records if r["logger"] == "django.request")
    # Django passes the request object and `status_code`: they become the
    # documented fields, not an unserialisable extra.
    assert (django_line["method"], django_line["path"]) == ("GET", "/plain-boom")
    assert django_line["status"] == 500
    assert django_line["error_type"] == "ValueError"
    assert "extra" not in django_line


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_a_domain_error_is_one_info_request_line(log_lines, log_schema) -> None:
    response = Client().get("/api/v1/events/5/taken")

    assert response.status_code == 409
    records = [validate_line(line, log_schema) for line in log_lines]
    assert [(r["logger"], r["level"], r["status"]) for r in records] == [
        ("onsale.request", "INFO", 409)
    ]


def test_every_line_of_a_task_matches_the_schema(log_lines, log_schema) -> None:
    # Given a request in progress that enqueues a task (eager in tests)
    token = context.request_id_var.set("req-obs-3")
    try:
        result = log_in_task.apply(kwargs={"event_id": 7})
        # `.result`, not `.get()`: get() refuses to run if another test left
        # Celery believing it is inside a task.
        assert result.successful()
        task_id = result.result
        # Then, after the task, the caller's context is back
        assert context.request_id_var.get() == "req-obs-3"
        assert context.task_name_var.get() is None
        assert context.event_id_var.get() is None
    finally:
        context.request_id_var.reset(token)

    records = [validate_line(line, log_schema) for line in log_lines]
    inside = next(r for r in records if r["message"] == "inside the task")
    assert inside["task_name"] == "tests.observability.log_in_task"
    assert inside["task_id"] == task_id
    assert inside["task_retries"] == 0
    assert inside["event_id"] == 7
    assert inside["request_id"] == "req-obs-3"
    assert inside["extra"] == {"step": "one"}


def test_a_failing_task_logs_a_valid_error_line(log_lines, log_schema) -> None:
    with pytest.raises(LookupError):
        fail_in_task.apply(throw=True)

    records = [validate_line(line, log_schema) for line in log_lines]
    failure = next(r for r in records if r["level"] == "ERROR")
    assert failure["task_name"] == "tests.observability.fail_in_task"
    assert failure["error_type"] == "LookupError"
    # Without a calling request, the task id stands in as the request id
    assert failure["request_id"] == failure["task_id"]


def test_published_tasks_carry_the_request_context_in_their_headers() -> None:
    tokens = (
        context.request_id_var.set("req-obs-4"),
        context.user_id_var.set(11),
        context.event_id_var.set(12),
    )
    try:
        headers: dict[str, Any] = {}
        celery_context._celery_before_publish(headers=headers)
    finally:
        for token in reversed(tokens):
            token.var.reset(token)
    assert headers == {
        "onsale_request_id": "req-obs-4",
        "onsale_user_id": 11,
        "onsale_event_id": 12,
    }


def test_celery_does_not_configure_logging_of_its_own() -> None:
    from onsale.config.celery import app

    # A receiver on setup_logging makes Celery leave logging (and stdout) alone.
    receivers = signals.setup_logging.receivers
    assert any("onsale-logging" in str(key) for key, _ in receivers)
    assert app.conf.worker_hijack_root_logger is False


def test_worker_and_beat_name_their_process(monkeypatch) -> None:
    monkeypatch.delenv("ONSALE_PROCESS", raising=False)
    monkeypatch.setattr(onsale_logging, "_process_role", None)
    signals.celeryd_init.send(
        sender="worker@test", instance=None, conf=None, options={}
    )
    assert onsale_logging.process_role() == "worker"
    signals.beat_init.send(sender=None)
    assert onsale_logging.process_role() == "beat"
    monkeypatch.setenv("ONSALE_PROCESS", "web")
    assert onsale_logging.process_role() == "web"


def test_an_odd_value_for_a_typed_field_moves_to_extra(log_lines, log_schema) -> None:
    logging.getLogger("tests.observability").info(
        "odd", extra={"user_id": "not-a-number", "status": True}
    )
    record = validate_line(log_lines[-1], log_schema)
    assert record["user_id"] is None
    assert record["status"] is None
    assert record["extra"] == {"user_id": "not-a-number", "status": True}


def test_a_dict_message_and_unserialisable_extras_still_make_one_valid_line(
    log_lines, log_schema
) -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    logging.getLogger("tests.observability").warning(
        {"action": "reload", "count": 3}, extra={"thing": Thing(), "items": {1, 2}}
    )
    record = validate_line(log_lines[-1], log_schema)
    assert record["level"] == "WARNING"
    assert record["extra"] == {
        "action": "reload",
        "count": 3,
        "thing": "a thing",
        "items": [1, 2],
    }
    assert json.loads(log_lines[-1]) == record
