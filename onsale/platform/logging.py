"""JSON log lines for ELK: one object per line on stdout.

Every line carries the timestamp (ISO 8601, UTC), level, logger, message,
service and host, plus the request id, user id and event id of the request or
task it was written in.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from onsale.platform.context import event_id_var, request_id_var, user_id_var


class ContextFilter(logging.Filter):
    """Copies the current request context onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = user_id_var.get()
        if not hasattr(record, "event_id"):
            record.event_id = event_id_var.get()
        return True


class JsonFormatter(BaseJsonFormatter):
    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["timestamp"] = datetime.fromtimestamp(
            record.created, tz=UTC
        ).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["service"] = getattr(settings, "SERVICE_NAME", "onsale")
        log_data["host"] = getattr(settings, "HOSTNAME", "")
        for name in ("request_id", "user_id", "event_id"):
            log_data.setdefault(name, getattr(record, name, None))
