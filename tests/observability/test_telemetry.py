"""New Relic: the custom event/metric facade with and without the agent, route
transaction names, trace ids in logs, the gauge beat task, newrelic.ini."""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import newrelic.agent
import pytest
from django.test import Client, override_settings

from onsale.platform import context
from onsale.platform.observability import metrics, telemetry
from onsale.platform.observability import newrelic as newrelic_agent
from onsale.platform.observability.metrics import GaugeSample, QueueState
from tests.observability.conftest import validate_line

ROOT = Path(__file__).resolve().parents[2]
URLS = "tests.observability.urls"


class AgentCalls:
    """The agent's API functions, monkeypatched to record their calls."""

    def __init__(self, monkeypatch, *, in_transaction: bool) -> None:
        self.events: list[tuple[str, dict[str, Any], Any]] = []
        self.metrics: list[tuple[str, float, Any]] = []
        self.names: list[tuple[str, str | None]] = []
        self.application = object()
        transaction = object() if in_transaction else None
        monkeypatch.setattr(newrelic.agent, "current_transaction", lambda: transaction)
        monkeypatch.setattr(newrelic.agent, "application", lambda: self.application)
        monkeypatch.setattr(newrelic.agent, "record_custom_event", self._event)
        monkeypatch.setattr(newrelic.agent, "record_custom_metric", self._metric)
        monkeypatch.setattr(
            newrelic.agent,
            "set_transaction_name",
            lambda name, group=None, priority=None: self.names.append((name, group)),
        )
        monkeypatch.setattr(
            newrelic.agent,
            "current_trace_id",
            lambda: "4bf92f3577b34da6a3ce929d0e0e4736",
        )

    def _event(
        self, event_type: str, params: dict[str, Any], application: Any = None
    ) -> None:
        self.events.append((event_type, params, application))

    def _metric(self, name: str, value: float, application: Any = None) -> None:
        self.metrics.append((name, value, application))


@pytest.fixture
def agent_off(monkeypatch):
    monkeypatch.setattr(newrelic_agent, "_agent", None)
    return AgentCalls(monkeypatch, in_transaction=True)


@pytest.fixture
def agent_on(monkeypatch):
    # What newrelic_initialize() leaves behind once the agent runs.
    calls = AgentCalls(monkeypatch, in_transaction=True)
    monkeypatch.setattr(newrelic_agent, "_agent", newrelic.agent)
    return calls


def test_without_the_agent_nothing_is_sent(agent_off) -> None:
    telemetry.record_event("QueueJoin", event_id=1, queue_number=10, latency_ms=3.2)
    telemetry.record_metric("Onsale/queue_length", 5)
    assert agent_off.events == []
    assert agent_off.metrics == []


def test_with_the_agent_events_carry_attributes_and_request_context(agent_on) -> None:
    tokens = (context.request_id_var.set("req-nr-1"), context.user_id_var.set(9))
    try:
        telemetry.record_event(
            "HoldCreated",
            event_id=4,
            hold_id=77,
            seats=2,
            mode="best_available",
            latency_ms=12.5,
            category=None,  # None attributes are left out
        )
    finally:
        for token in reversed(tokens):
            token.var.reset(token)
    assert agent_on.events == [
        (
            "HoldCreated",
            {
                "service": "onsale-all",
                "request_id": "req-nr-1",
                "user_id": 9,
                "event_id": 4,
                "hold_id": 77,
                "seats": 2,
                "mode": "best_available",
                "latency_ms": 12.5,
            },
            None,  # inside a transaction: no application argument
        )
    ]


def test_outside_a_transaction_the_application_is_named(monkeypatch) -> None:
    calls = AgentCalls(monkeypatch, in_transaction=False)
    monkeypatch.setattr(newrelic_agent, "_agent", newrelic.agent)
    telemetry.record_event("Admission", event_id=3, waited_seconds=40.0)
    telemetry.record_metric("Onsale/x", 1)
    assert calls.events[0][2] is calls.application
    assert calls.metrics == [("Custom/Onsale/x", 1.0, calls.application)]


def test_metric_names_get_the_custom_prefix_once(agent_on) -> None:
    telemetry.record_metric("Onsale/queue_length", 5)
    telemetry.record_metric("Custom/Onsale/queue_length", 6)
    assert [(name, value) for name, value, _ in agent_on.metrics] == [
        ("Custom/Onsale/queue_length", 5.0),
        ("Custom/Onsale/queue_length", 6.0),
    ]


def test_the_facade_never_raises(agent_on, monkeypatch, log_lines) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("agent exploded")

    monkeypatch.setattr(newrelic.agent, "record_custom_event", broken)
    monkeypatch.setattr(newrelic.agent, "record_custom_metric", broken)
    telemetry.record_event("CheckoutFailed", event_id=1, reason="declined")
    telemetry.record_metric("Onsale/x", 1)
    assert sum("could not record a telemetry" in line for line in log_lines) == 2


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_transactions_are_named_by_route_and_lines_carry_the_trace_id(
    agent_on, log_lines, log_schema
) -> None:
    assert Client().get("/api/v1/events/8/work").status_code == 200
    assert agent_on.names == [("api/v1/events/<int:event_id>/work", "Route")]
    records = [validate_line(line, log_schema) for line in log_lines]
    assert {r["trace_id"] for r in records} == {"4bf92f3577b34da6a3ce929d0e0e4736"}


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLS)
def test_without_the_agent_no_transaction_is_named(agent_off, log_lines) -> None:
    assert Client().get("/api/v1/events/8/work").status_code == 200
    assert agent_off.names == []
    assert all(json.loads(line)["trace_id"] is None for line in log_lines)


def test_initialize_switches_on_only_with_a_key_or_config(monkeypatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(newrelic.agent, "initialize", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(newrelic_agent, "_agent", None)
    monkeypatch.delenv("NEW_RELIC_LICENSE_KEY", raising=False)
    monkeypatch.delenv("NEW_RELIC_CONFIG_FILE", raising=False)
    assert newrelic_agent.newrelic_initialize() is False
    assert newrelic_agent.newrelic_agent() is None
    assert calls == []
    monkeypatch.setenv("NEW_RELIC_LICENSE_KEY", "x" * 40)
    assert newrelic_agent.newrelic_initialize() is True
    assert newrelic_agent.newrelic_agent() is newrelic.agent
    assert calls == [(None,)]


# --- The gauge beat task -------------------------------------------------------------


def _hooks():
    def holds() -> list[GaugeSample]:
        return [GaugeSample("onsale_holds_active", 5, {"event_id": 7})]

    def rooms() -> list[QueueState]:
        return [QueueState(7, "open", 1500, 1000, 80, 100, 600.0)]

    metrics.register_collector(holds, name="test-holds")
    metrics.register_queue_state_provider(rooms, name="test-rooms")


def _unhook():
    metrics.unregister_collector("test-holds")
    metrics.unregister_queue_state_provider("test-rooms")


@override_settings(METRICS_CELERY_QUEUES=["obs-telemetry-empty-queue"])
def test_gauge_task_sends_nothing_and_reads_nothing_without_the_agent(
    agent_off,
) -> None:
    read: list[str] = []

    def watched() -> list[GaugeSample]:
        read.append("called")
        return []

    metrics.register_collector(watched, name="test-watched")
    try:
        from onsale.platform.observability.tasks import telemetry_gauges_record

        result = telemetry_gauges_record.apply()
        assert (result.successful(), result.result) == (True, 0)
    finally:
        metrics.unregister_collector("test-watched")
    assert read == []
    assert agent_off.events == agent_off.metrics == []


@override_settings(METRICS_CELERY_QUEUES=["obs-telemetry-empty-queue"])
def test_gauge_task_sends_every_gauge_and_queue_snapshot(
    agent_on, telemetry_schema
) -> None:
    _hooks()
    try:
        sent = telemetry.gauges_record()
    finally:
        _unhook()
    metric_names = {name: value for name, value, _ in agent_on.metrics}
    assert (
        metric_names["Custom/Onsale/celery_queue_length/obs-telemetry-empty-queue"]
        == 0.0
    )
    assert metric_names["Custom/Onsale/holds_active/7"] == 5.0
    assert metric_names["Custom/Onsale/queue_waiting/7"] == 500.0
    assert metric_names["Custom/Onsale/queue_state/7/open"] == 1.0
    gauges = [params for kind, params, _ in agent_on.events if kind == "OnsaleGauge"]
    assert {
        "service": "onsale-all",
        "event_id": 7,
        "name": "onsale_holds_active",
        "value": 5,
    } in gauges
    snapshots = [
        params for kind, params, _ in agent_on.events if kind == "QueueSnapshot"
    ]
    assert snapshots == [
        {
            "service": "onsale-all",
            "event_id": 7,
            "state": "open",
            "numbers_issued": 1500,
            "serving_number": 1000,
            "waiting": 500,
            "active_sessions": 80,
            "max_active_sessions": 100,
            "admission_rate_per_minute": 600.0,
            "estimated_wait_seconds": 50.0,
        }
    ]
    assert sent == len(metric_names) + 1
    # Everything sent is documented for the dashboards and alerts
    documented = telemetry_schema["custom_events"]
    snapshot_attributes = set(documented["QueueSnapshot"]["attributes"]) | set(
        telemetry_schema["common_attributes"]
    )
    assert set(snapshots[0]) <= snapshot_attributes
    labels = {
        label
        for spec in telemetry_schema["gauges"].values()
        for label in spec["labels"]
    }
    gauge_attributes = (
        set(documented["OnsaleGauge"]["attributes"]) | labels | {"service"}
    )
    for params in gauges:
        assert set(params) <= gauge_attributes
        assert params["name"] in telemetry_schema["gauges"]


def test_the_gauge_task_is_scheduled_by_beat_and_expires() -> None:
    from django.conf import settings

    from onsale.config.celery import app

    entries = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "onsale.platform.telemetry_gauges_record"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == settings.TELEMETRY_GAUGES_INTERVAL_SECONDS
    assert (
        entries[0]["options"]["expires"] == settings.TELEMETRY_GAUGES_INTERVAL_SECONDS
    )


def test_business_event_names_are_the_documented_ones(telemetry_schema) -> None:
    documented = set(telemetry_schema["custom_events"])
    assert (
        telemetry.BUSINESS_EVENTS
        | {telemetry.GAUGE_EVENT, telemetry.QUEUE_SNAPSHOT_EVENT}
        == documented
    )
    platform_gauges = {
        sample.name
        for sample in metrics.queue_state_samples(
            [QueueState(1, "open", 2, 1, 0, 1, 1.0)]
        )
    }
    assert platform_gauges | {"onsale_celery_queue_length"} <= set(
        telemetry_schema["gauges"]
    )


# --- newrelic.ini ---------------------------------------------------------------------


def _agent_setting_names() -> set[str]:
    source = Path(newrelic.agent.__file__).with_name("config.py").read_text()
    names = set(re.findall(r'_process_setting\(section, "([a-z_.]+)"', source))
    return names | {"log_file", "log_level"}


def test_newrelic_ini_holds_no_key_and_only_settings_the_agent_knows() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "newrelic.ini")
    known = _agent_setting_names()
    for section in parser.sections():
        assert section == "newrelic" or section.startswith("newrelic:")
        for key in parser[section]:
            assert key in known, f"[{section}] {key} is not an agent setting"
            # Settings in the file win over the environment: these must come from it.
            assert key not in ("license_key", "app_name"), f"[{section}] sets {key}"
    assert parser["newrelic:test"].getboolean("developer_mode") is True
    assert parser["newrelic:test"].getboolean("monitor_mode") is False
    assert "request.headers.authorization" in parser["newrelic"]["attributes.exclude"]


def test_the_real_agent_in_developer_mode_runs_the_facade_and_sends_nothing(
    tmp_path,
) -> None:
    # Given the real agent started from newrelic.ini's test section, no key
    code = """
import json, os
import django
django.setup()
from onsale.platform.observability import newrelic as newrelic_agent, telemetry
assert newrelic_agent.newrelic_initialize() is True
import newrelic.agent
from newrelic.core.config import global_settings
settings = global_settings()
application = newrelic.agent.register_application(timeout=5.0)
with newrelic.agent.BackgroundTask(application, name="obs-test"):
    telemetry.record_event("QueueJoin", event_id=1, queue_number=2, latency_ms=1.0)
    telemetry.record_metric("Onsale/test", 1)
telemetry.record_event("Admission", event_id=1, waited_seconds=3.0)
print(json.dumps({"developer_mode": settings.developer_mode, "monitor_mode": settings.monitor_mode,
                  "license_key": bool(settings.license_key)}))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "NEW_RELIC_CONFIG_FILE": str(ROOT / "newrelic.ini"),
        "NEW_RELIC_ENVIRONMENT": "test",
        "NEW_RELIC_LOG": str(tmp_path / "agent.log"),
    }
    env.pop("NEW_RELIC_LICENSE_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it ran without error, in developer mode, with no key to send with
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state == {
        "developer_mode": True,
        "monitor_mode": False,
        "license_key": False,
    }
