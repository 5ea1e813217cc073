"""JSON log lines for ELK: one object per line, from web, worker and beat.

Every line carries the fields of `LOG_FIELDS` (documented, with their
Elasticsearch types, in `observability/log-schema.json`; a test keeps the two
equal): timestamp (ISO 8601, UTC), level, logger, message, service, process
and host, the request id, New Relic trace id, user id and event id of the
request or task it was written in, the request's method, path, route, status
and duration, and a Celery task's name, id and retries. Anything else a caller
passes in `extra=` goes under one `extra` object (an Elasticsearch `flattened`
field), so an unexpected key can never explode the index mapping.

Redaction happens in the formatter, because it is the one place every line
passes through, tracebacks included; what it masks is in `redaction.py`.
gunicorn's own lines go through the same formatter (`gunicorn.py`), and
Celery's task context reaches it through `celery_context.py`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from onsale.platform import context
from onsale.platform.observability.newrelic import newrelic_trace_id
from onsale.platform.observability.redaction import redact_value

# Field name -> Elasticsearch type. Order is the order of keys in a line.
LOG_FIELDS: dict[str, str] = {
    "timestamp": "date",
    "level": "keyword",
    "logger": "keyword",
    "message": "text",
    "service": "keyword",
    "process": "keyword",
    "host": "keyword",
    "request_id": "keyword",
    "trace_id": "keyword",
    "user_id": "long",
    "event_id": "long",
    "method": "keyword",
    "path": "keyword",
    "route": "keyword",
    "status": "integer",
    "duration_ms": "float",
    "response_bytes": "long",
    "task_name": "keyword",
    "task_id": "keyword",
    "task_retries": "integer",
    "error_type": "keyword",
    "exc_info": "text",
    "stack_info": "text",
    "extra": "flattened",
}
# Set by the formatter itself on every line.
_IDENTITY_FIELDS = (
    "timestamp",
    "level",
    "logger",
    "message",
    "service",
    "process",
    "host",
)
# Present on every line too, null when unknown.
_CORRELATION_FIELDS = ("request_id", "trace_id", "user_id", "event_id")
ALWAYS_PRESENT = (*_IDENTITY_FIELDS, *_CORRELATION_FIELDS)
# Taken from the request or task context when the record does not name them.
_CONTEXT_FIELDS = (
    *_CORRELATION_FIELDS,
    "route",
    "task_name",
    "task_id",
    "task_retries",
)
# Keys callers use for a field under another name (Django's request logger).
_ALIASES = {"status_code": "status"}
_SKIP = frozenset(RESERVED_ATTRS) | {"message", "asctime", "request", "server_time"}
_INTEGER_TYPES = frozenset({"long", "integer"})
# The fields whose text comes from callers or clients and may hold a secret;
# the others are names, numbers and ids onsale itself sets.
_FREE_TEXT_FIELDS = ("message", "path", "request_id", "exc_info", "stack_info", "extra")


# --- Identity of the process --------------------------------------------------

_process_role: str | None = None
_identity: tuple[str, str] | None = None


def process_role_set(role: str, *, override: bool = True) -> None:
    """Name what this process is: web, worker or beat (`process` in logs).
    `ONSALE_PROCESS` in the environment wins over detection."""
    global _process_role
    if override or _process_role is None:
        _process_role = role


def process_role() -> str:
    return os.environ.get("ONSALE_PROCESS") or _process_role or "app"


def _service_and_host() -> tuple[str, str]:
    global _identity
    if _identity is not None:
        return _identity
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        identity = (str(settings.SERVICE_NAME), str(settings.HOSTNAME))
    except (ImproperlyConfigured, AttributeError):
        # Before settings load (gunicorn's master): the same rule from the env.
        return (
            f"onsale-{os.environ.get('ONSALE_SERVICE') or 'all'}",
            os.environ.get("HOSTNAME") or socket.gethostname(),
        )
    _identity = identity
    return identity


# --- Filter and formatter -------------------------------------------------------


class ContextFilter(logging.Filter):
    """Copies the current request or task context (and New Relic's trace id)
    onto the record, so it is formatted with the context it was written in."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_onsale_context", False):
            return True
        record._onsale_context = True
        snapshot = context.context_snapshot()
        for name, value in snapshot.items():
            if name not in record.__dict__:
                setattr(record, name, value)
        if "trace_id" not in record.__dict__:
            record.trace_id = newrelic_trace_id()
        return True


def _coerce(kind: str, value: Any) -> Any:
    """`value` as the schema type `kind`, or raise ValueError."""
    if value is None:
        return None
    if kind in _INTEGER_TYPES:
        if isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        return int(value)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError("a boolean is not a number")
        return float(value)
    if kind == "flattened":
        if not isinstance(value, Mapping):
            raise ValueError("not an object")
        return dict(value)
    return value if isinstance(value, str) else str(value)


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per record, in the documented shape, redacted."""

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        if not getattr(record, "_onsale_context", False):
            ContextFilter().filter(record)
        fields = record.__dict__
        service, host = _service_and_host()
        log_data["timestamp"] = datetime.fromtimestamp(
            record.created, tz=UTC
        ).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        # The base class rendered the message (msg % args) once already.
        log_data["message"] = record.__dict__.get("message", "")
        log_data["service"] = service
        log_data["process"] = process_role()
        log_data["host"] = host
        extra: dict[str, Any] = {}
        for name in _CORRELATION_FIELDS:
            self._put(log_data, extra, name, fields.get(name))
        for name in _CONTEXT_FIELDS:
            value = fields.get(name)
            if name not in log_data and value is not None:
                self._put(log_data, extra, name, value)
        request = fields.get("request")
        if request is not None and hasattr(request, "path"):
            # Django's own request logger passes the request object.
            log_data.setdefault("method", getattr(request, "method", None))
            log_data.setdefault("path", request.path)
        for key, value in [*fields.items(), *message_dict.items()]:
            if key in _SKIP or key.startswith("_") or key in _CONTEXT_FIELDS:
                continue
            name = _ALIASES.get(key, key)
            if name in LOG_FIELDS and name not in _IDENTITY_FIELDS:
                self._put(log_data, extra, name, value)
            else:
                extra[key] = value
        exc_info = message_dict.get("exc_info")
        if exc_info:
            log_data["exc_info"] = str(exc_info)
            if record.exc_info and record.exc_info[0] is not None:
                log_data["error_type"] = record.exc_info[0].__name__
        if record.stack_info:
            log_data["stack_info"] = str(self.formatStack(record.stack_info))
        if extra:
            log_data["extra"] = {key: _jsonable(value) for key, value in extra.items()}

    @staticmethod
    def _put(
        log_data: dict[str, Any], extra: dict[str, Any], name: str, value: Any
    ) -> None:
        try:
            log_data[name] = _coerce(LOG_FIELDS[name], value)
        except (TypeError, ValueError):
            # Keep the odd value, but not under a field whose type it breaks.
            log_data[name] = None
            extra[name] = value

    def process_log_record(self, log_record: dict[str, Any]) -> dict[str, Any]:
        for key in _FREE_TEXT_FIELDS:
            value = log_record.get(key)
            if value is not None:
                log_record[key] = redact_value(value)
        return log_record


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return str(value)
