"""Helpers for the observability tests: the documented schemas, a handler that
collects log lines exactly as production formats them, and a validator."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from onsale.platform.observability.logging import ContextFilter, JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "observability"


def load_json(relative: str) -> Any:
    return json.loads((OBSERVABILITY / relative).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _newrelic_off(monkeypatch) -> None:
    """Start every test with the agent off (a test elsewhere may leave it on);
    the tests that want it on say so."""
    from onsale.platform.observability import newrelic as newrelic_agent

    monkeypatch.setattr(newrelic_agent, "_agent", None)


@pytest.fixture(scope="session")
def log_schema() -> dict[str, Any]:
    return load_json("log-schema.json")


@pytest.fixture(scope="session")
def telemetry_schema() -> dict[str, Any]:
    return load_json("telemetry-schema.json")


class LineCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line written during the test, formatted as in production."""
    handler = LineCollector()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)


_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)$")


def _type_ok(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if kind == "date":
        if not isinstance(value, str) or not _ISO_UTC.match(value):
            return False
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.utcoffset() == timedelta(0)
    if kind in ("keyword", "text"):
        return isinstance(value, str)
    if kind in ("long", "integer"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "flattened":
        return isinstance(value, dict)
    if kind == "boolean":
        return isinstance(value, bool)
    raise AssertionError(f"unknown schema type {kind!r}")


def validate_line(line: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Parse one log line and check it against the documented schema: one JSON
    object, every required field present, no undocumented key, every value
    of its field's type. Returns the parsed object."""
    assert "\n" not in line, f"a log line spans several lines: {line[:200]!r}"
    record = json.loads(line)
    assert isinstance(record, dict), line
    fields = schema["fields"]
    missing = [name for name in schema["required"] if name not in record]
    assert not missing, f"missing {missing} in {line[:300]}"
    unknown = sorted(set(record) - set(fields))
    assert not unknown, f"undocumented fields {unknown} in {line[:300]}"
    wrong = {
        name: value
        for name, value in record.items()
        if not _type_ok(fields[name]["type"], value)
    }
    assert not wrong, f"fields of the wrong type {wrong} in {line[:300]}"
    return record
