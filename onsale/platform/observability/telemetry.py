"""Business telemetry for New Relic: the one facade apps call.

    from onsale.platform.observability.telemetry import record_event

    record_event("HoldCreated", event_id=event.pk, hold_id=hold.id, seats=3,
                 latency_ms=12.5)

`record_event` and `record_metric` send to New Relic only when the agent runs
in this process (a license key or config file was given); otherwise they cost
one check. They never raise: telemetry must not fail a purchase. Every event
also counts in the process's Prometheus counter `onsale_business_events_total`
(in-process, no I/O), so the business rates are visible without New Relic.

The event names and their attributes are a contract with the dashboards and
alerts in `observability/newrelic/`: they are listed in
`observability/telemetry-schema.json` and docs/observability.md, and a test
checks that every query uses only listed names.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from onsale.platform import context
from onsale.platform.observability import metrics
from onsale.platform.observability.newrelic import newrelic_agent

logger = logging.getLogger(__name__)

# The business events the apps record (see docs/observability.md).
QUEUE_JOIN = "QueueJoin"
ADMISSION = "Admission"
HOLD_CREATED = "HoldCreated"
HOLD_REJECTED = "HoldRejected"
CHECKOUT_COMPLETED = "CheckoutCompleted"
CHECKOUT_FAILED = "CheckoutFailed"
BUSINESS_EVENTS = frozenset(
    {
        QUEUE_JOIN,
        ADMISSION,
        HOLD_CREATED,
        HOLD_REJECTED,
        CHECKOUT_COMPLETED,
        CHECKOUT_FAILED,
    }
)
# What the beat task sends: one per gauge sample, one per live waiting room.
GAUGE_EVENT = "OnsaleGauge"
QUEUE_SNAPSHOT_EVENT = "QueueSnapshot"

_MAX_STRING = 255  # New Relic truncates longer attribute values anyway


def _attribute(value: Any) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    return text[:_MAX_STRING]


def _event_attributes(
    attributes: dict[str, Any],
) -> dict[str, str | int | float | bool]:
    """The attributes New Relic accepts, plus the request's context (so an
    event leads to its log lines in ELK by `request_id`)."""
    merged: dict[str, Any] = {
        "service": getattr(settings, "SERVICE_NAME", "onsale"),
        "request_id": context.request_id_var.get(),
        "user_id": context.user_id_var.get(),
        "event_id": context.event_id_var.get(),
    }
    merged.update(attributes)
    cleaned = {key: _attribute(value) for key, value in merged.items()}
    return {key: value for key, value in cleaned.items() if value is not None}


def _send(agent: Any, function: str, *arguments: Any) -> None:
    """Call an agent API inside the current transaction, or, outside one (a
    thread, a task the agent does not wrap), on the application directly."""
    call = getattr(agent, function)
    if agent.current_transaction() is not None:
        call(*arguments)
    else:
        call(*arguments, application=agent.application())


def record_event(event_type: str, /, **attributes: Any) -> None:
    """Record a custom event `event_type` with `attributes` (numbers, strings,
    booleans; None values are left out). Never raises."""
    try:
        if event_type in BUSINESS_EVENTS:
            metrics.BUSINESS_EVENTS.labels(event_type).inc()
        agent = newrelic_agent()
        if agent is None:
            return
        _send(agent, "record_custom_event", event_type, _event_attributes(attributes))
    except Exception:
        logger.warning(
            "could not record a telemetry event",
            extra={"event_type": event_type},
            exc_info=True,
        )


def record_metric(name: str, value: float) -> None:
    """Record a custom metric value; `name` gets New Relic's `Custom/` prefix
    when it lacks one. Never raises."""
    agent = newrelic_agent()
    if agent is None:
        return
    try:
        path = name if name.startswith("Custom/") else "Custom/" + name.lstrip("/")
        _send(agent, "record_custom_metric", path, float(value))
    except Exception:
        logger.warning(
            "could not record a telemetry metric", extra={"metric": name}, exc_info=True
        )


def gauge_metric_path(sample: metrics.GaugeSample) -> str:
    """`onsale_queue_waiting{event_id=42}` -> `Custom/Onsale/queue_waiting/42`."""
    base = sample.name.removeprefix("onsale_")
    labels = "".join(f"/{sample.labels[key]}" for key in sorted(sample.labels))
    return f"Custom/Onsale/{base}{labels}"


def gauges_record() -> int:
    """Send every gauge the collectors report, and a `QueueSnapshot` per live
    waiting room, to New Relic; return how many values were sent.

    Where the agent is off nothing is collected at all (the collectors read
    Redis and MySQL). Each gauge goes out twice: as a custom metric (for
    charts of one series) and as an `OnsaleGauge` event whose labels are
    attributes (for NRQL's FACET, which the alerts use).
    """
    if newrelic_agent() is None:
        return 0
    collected = metrics.gauges_collect()
    for sample in collected.samples:
        record_metric(gauge_metric_path(sample), sample.value)
        _record_without_context(
            GAUGE_EVENT, {**sample.labels, "name": sample.name, "value": sample.value}
        )
    for state in collected.queue_states:
        _record_without_context(
            QUEUE_SNAPSHOT_EVENT,
            {
                "event_id": state.event_id,
                "state": state.state,
                "numbers_issued": state.numbers_issued,
                "serving_number": state.serving_number,
                "waiting": state.waiting,
                "active_sessions": state.active_sessions,
                "max_active_sessions": state.max_active_sessions,
                "admission_rate_per_minute": state.admission_rate_per_minute,
                "estimated_wait_seconds": state.estimated_wait_seconds,
            },
        )
    return len(collected.samples) + len(collected.queue_states)


def _record_without_context(event_type: str, attributes: dict[str, Any]) -> None:
    # A gauge describes the platform, not the beat task's request or user.
    agent = newrelic_agent()
    if agent is None:
        return
    try:
        params = {
            key: value
            for key, value in (
                ("service", getattr(settings, "SERVICE_NAME", "onsale")),
                *((key, _attribute(value)) for key, value in attributes.items()),
            )
            if value is not None
        }
        _send(agent, "record_custom_event", event_type, params)
    except Exception:
        logger.warning(
            "could not record a telemetry event",
            extra={"event_type": event_type},
            exc_info=True,
        )
