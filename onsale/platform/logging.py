"""JSON log lines for ELK: one object per line, from web, worker and beat.

Every line carries the fields of `LOG_FIELDS` (documented, with their
Elasticsearch types, in `observability/log-schema.json`; a test keeps the two
equal): timestamp (ISO 8601, UTC), level, logger, message, service, process
and host, the request id, New Relic trace id, user id and event id of the
request or task it was written in, the request's method, path, route, status
and duration, and a Celery task's name, id and retries. Anything else a caller
passes in `extra=` goes under one `extra` object (an Elasticsearch `flattened`
field), so an unexpected key can never explode the index mapping.

Redaction happens here, in the formatter, because it is the one place every
line passes through, tracebacks included: values under secret-looking keys
(password, token, authorization, cookie, ...) and anything that looks like a
credential (JWTs, 64-hex bearer tokens, `Bearer ...`, `password=...`, URL
passwords, the configured secrets themselves) are masked.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import os
import re
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gunicorn import glogging
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from onsale.platform import context
from onsale.platform.newrelic_agent import newrelic_trace_id

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

REDACTED = "[REDACTED]"

# --- Redaction ---------------------------------------------------------------

_SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "private_key",
    "signature",
    "credential",
    "sessionid",
    "session_key",
    "csrf",
    "jwt",
    "license_key",
)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens: header.payload.signature, the header always `eyJ`.
    (
        re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        "[REDACTED:jwt]",
    ),
    # An Authorization header's credentials.
    (
        re.compile(r"(?i)\b(bearer|token|basic|digest)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
        r"\1\2" + REDACTED,
    ),
    # Bearer tokens (knox: 64 hex) and anything longer in hex (token digests).
    (re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64,}(?![0-9A-Fa-f])"), "[REDACTED:hex]"),
    # password=..., "token": "...", Cookie: ... written into a message.
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|authorization|cookie|api[_-]?key"
            r"|sessionid|csrftoken)[\"']?\s*[:=]\s*[\"']?)([^\"'\s,;&)}]+)"
        ),
        r"\1" + REDACTED,
    ),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)"), r"\1***\3"),
)
_known_secrets: tuple[str, ...] | None = None
# Settings that hold secrets by their name's ending (SECRET_KEY, METRICS_TOKEN,
# EMAIL_HOST_PASSWORD, NEW_RELIC_LICENSE_KEY, *_PRIVATE_KEY, *_SIGNING_KEYS,
# SECRET_KEY_FALLBACKS ...); not *_TOKEN_TTL_HOURS and the like.
_SECRET_SETTING = re.compile(
    r"(^|_)(SECRET(_KEY)?|SECRET_KEY_FALLBACKS|PASSWORD|TOKEN|LICENSE_KEY"
    r"|PRIVATE_KEYS?|SIGNING_KEYS?)$"
)


def _secret_strings(value: Any, found: set[str], depth: int = 0) -> None:
    if isinstance(value, str):
        for line in value.splitlines() or [value]:
            line = line.strip()
            if len(line) >= 16 and not line.startswith("-----"):
                found.add(line)
    elif depth < 3 and isinstance(value, Mapping):
        for item in value.values():
            _secret_strings(item, found, depth + 1)
    elif depth < 3 and isinstance(value, list | tuple):
        for item in value:
            _secret_strings(item, found, depth + 1)


def configured_secrets() -> tuple[str, ...]:
    """The secret values this process was configured with (SECRET_KEY,
    METRICS_TOKEN, license keys, signing keys line by line), read once."""
    global _known_secrets
    if _known_secrets is not None:
        return _known_secrets
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        names = [name for name in dir(settings) if _SECRET_SETTING.search(name)]
        values = [getattr(settings, name) for name in names]
    except ImproperlyConfigured:
        return ()  # settings not loadable yet (gunicorn's master): try later
    found: set[str] = set()
    for value in values:
        _secret_strings(value, found)
    _known_secrets = tuple(sorted(found, key=len, reverse=True))
    return _known_secrets


def redaction_reset() -> None:
    """Forget the cached configured secrets (tests that change settings)."""
    global _known_secrets
    _known_secrets = None


def is_sensitive_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(part in lowered for part in _SENSITIVE_KEY_PARTS)


# One cheap search says whether any of the patterns above could match; most
# lines hold none of these words, and skip the substitutions.
_SUSPECT = re.compile(
    r"eyJ|[0-9A-Fa-f]{64}|://|(?i:bearer|token|basic|digest|passw|secret"
    r"|authorization|cookie|api[_-]?key|sessionid)"
)


def redact_text(text: str) -> str:
    """`text` with credentials masked. Short strings cannot hold one."""
    if len(text) < 8:
        return text
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    if _SUSPECT.search(text) is None:
        return text
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """`value` with secret-looking keys masked and text redacted, recursively
    through dicts and lists (to a sane depth)."""
    if isinstance(value, str):
        return redact_text(value)
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            str(key): (
                REDACTED
                if is_sensitive_key(str(key)) and isinstance(item, str | bytes)
                else redact_value(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    return value


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


# --- gunicorn -------------------------------------------------------------------


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines of the same shape.

    The access line is `{"logger": "gunicorn.access", "message": "access",
    "method", "path", "status", "duration_ms", "response_bytes",
    "request_id"}`: the server's record of each response, next to the
    application's own `onsale.request` line (which also knows the route and
    the user).
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        process_role_set("web", override=False)
        formatter = JsonFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
                if not any(isinstance(item, ContextFilter) for item in handler.filters):
                    handler.addFilter(ContextFilter())

    def access(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> None:
        if not self.access_log.handlers:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"),
            None,
        )
        try:
            self.access_log.info(
                "access",
                extra={
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "status": status,
                    "duration_ms": round(request_time.total_seconds() * 1000, 2),
                    "response_bytes": getattr(resp, "sent", None),
                    "request_id": request_id,
                },
            )
        except Exception:
            self.error_log.exception("could not write the access log line")


# --- Celery -------------------------------------------------------------------------

_task_contexts: dict[str, context.TaskContext] = {}
_HEADER_PREFIX = "onsale_"


def _celery_setup_logging(**_: Any) -> None:
    # Connecting to `setup_logging` stops Celery from configuring logging (and
    # from redirecting stdout into a plain-text logger): Django's LOGGING is the
    # one configuration for web, worker and beat.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    # Python warnings become log lines too (Django does the same at setup).
    logging.captureWarnings(True)


def _celery_before_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    for name, var in (
        ("request_id", context.request_id_var),
        ("user_id", context.user_id_var),
        ("event_id", context.event_id_var),
    ):
        value = var.get()
        if value is not None:
            headers.setdefault(_HEADER_PREFIX + name, value)


def _celery_task_prerun(
    task_id: str | None = None,
    task: Any = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    request = getattr(task, "request", None)

    def header(name: str) -> Any:
        value = getattr(request, _HEADER_PREFIX + name, None)
        if value is None:
            headers = getattr(request, "headers", None) or {}
            value = headers.get(_HEADER_PREFIX + name)
        return value

    event_id = (kwargs or {}).get("event_id", header("event_id"))
    if event_id is None:
        event_id = context.event_id_var.get()
    user_id = header("user_id")
    if user_id is None:
        user_id = context.user_id_var.get()
    entered = context.task_context_enter(
        task_name=getattr(task, "name", None),
        task_id=task_id,
        retries=getattr(request, "retries", None),
        request_id=header("request_id") or context.request_id_var.get(),
        user_id=context.as_int(user_id),
        event_id=context.as_int(event_id),
    )
    if task_id:
        _task_contexts[task_id] = entered


def _celery_task_postrun(task_id: str | None = None, **_: Any) -> None:
    entered = _task_contexts.pop(task_id, None) if task_id else None
    if entered is None:
        return
    # Post-run in another context than pre-run (a pool quirk) cannot reset
    # the tokens; the task's context then dies with its own context.
    with contextlib.suppress(ValueError):
        entered.restore()


def _celery_worker_role(**_: Any) -> None:
    process_role_set("worker")


def _celery_beat_role(**_: Any) -> None:
    process_role_set("beat")


def celery_logging_connect() -> None:
    """Wire Celery's signals: JSON logging from Django's LOGGING in worker and
    beat, the task context (name, id, retries, and the publishing request's
    id, user and event) on every line a task writes, and the process role."""
    from celery import signals

    signals.setup_logging.connect(
        _celery_setup_logging, weak=False, dispatch_uid="onsale-logging"
    )
    signals.before_task_publish.connect(
        _celery_before_publish, weak=False, dispatch_uid="onsale-context-publish"
    )
    signals.task_prerun.connect(
        _celery_task_prerun, weak=False, dispatch_uid="onsale-context-prerun"
    )
    signals.task_postrun.connect(
        _celery_task_postrun, weak=False, dispatch_uid="onsale-context-postrun"
    )
    signals.celeryd_init.connect(
        _celery_worker_role, weak=False, dispatch_uid="onsale-role-worker"
    )
    signals.beat_init.connect(
        _celery_beat_role, weak=False, dispatch_uid="onsale-role-beat"
    )
