"""The Celery application shared by every worker and beat process.

Tasks acknowledge late (a killed worker's task is delivered again), so every
task must be idempotent; see STYLE.md.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from onsale.platform.newrelic_agent import newrelic_initialize

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.platform.settings")

app = Celery("onsale")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    result_serializer="json",
    result_expires=3600,
    timezone="UTC",
    broker_connection_retry_on_startup=True,
    # Redis redelivers unacknowledged tasks after this long; it must exceed the
    # longest task.
    broker_transport_options={"visibility_timeout": 3600},
    task_routes={
        "onsale.checkout.*": {"queue": "checkout"},
        "onsale.orders.*": {"queue": "orders"},
        "onsale.waitingroom.*": {"queue": "waitingroom"},
        "onsale.seatselection.*": {"queue": "seatselection"},
    },
    task_default_queue="default",
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()


@worker_process_init.connect
def _start_newrelic(**_: object) -> None:
    # Each forked worker process needs its own agent connection.
    newrelic_initialize()
