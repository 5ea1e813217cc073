"""Platform tasks (thin wrappers; the work is in telemetry.py)."""

from __future__ import annotations

from celery import shared_task

from onsale.platform.observability import telemetry


@shared_task(name="onsale.platform.telemetry_gauges_record", ignore_result=True)
def telemetry_gauges_record() -> int:
    """Send the queue and business gauges to New Relic (run by beat).

    Idempotent: it reports a snapshot, so a repeated run only adds a sample.
    """
    return telemetry.gauges_record()
