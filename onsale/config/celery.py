"""The Celery application shared by every worker and beat process.

Tasks acknowledge late (a killed worker's task is delivered again), so every
task must be idempotent; see STYLE.md.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

from onsale.platform.observability.celery_context import (
    celery_app_register,
    celery_logging_connect,
)
from onsale.platform.observability.newrelic import newrelic_initialize

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.config.settings")

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
    # Nothing reads a task's result: storing each one would cost a Redis
    # write per task (every second's tick included) and leave a key outside
    # REDIS_KEY_PREFIX for result_expires. A task that needs one may say so.
    task_ignore_result=True,
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
# /metrics and the ops status read the queue names from this app's routes.
celery_app_register(app)


@worker_process_init.connect
def _start_newrelic(**_: object) -> None:
    # Each forked worker process needs its own agent connection.
    newrelic_initialize()


# --- Observability ------------------------------------------------------------
# JSON logs from Django's LOGGING in worker and beat (Celery does not configure
# logging of its own), and the task's name, id and retries on its log lines.
celery_logging_connect()


@app.on_after_configure.connect
def _schedule_platform_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    interval = settings.TELEMETRY_GAUGES_INTERVAL_SECONDS
    sender.add_periodic_task(
        interval,
        sender.signature("onsale.platform.telemetry_gauges_record"),
        name="platform: queue and business gauges to New Relic",
        # A gauge reading that waited in a backlog is stale: drop it.
        expires=interval,
    )


# --- Waiting room -------------------------------------------------------------
@app.on_after_configure.connect
def _schedule_waitingroom_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    interval = settings.WAITINGROOM_TICK_SECONDS
    # Every room is evaluated each second, so an idle room (nobody polling)
    # still admits, purges ended sessions and gives on lapsed claims.
    sender.add_periodic_task(
        interval,
        sender.signature("onsale.waitingroom.tick"),
        name="waitingroom: evaluate every room",
        # A tick that waited behind another is useless: the next one comes.
        expires=interval,
    )


# --- Seat selection -----------------------------------------------------------
@app.on_after_configure.connect
def _schedule_seatselection_tasks(sender: Celery, **_: object) -> None:
    # Busy events purge expired holds on every request; these cover quiet ones
    # and heal a sale whose after-commit Redis update failed.
    sender.add_periodic_task(
        10.0,
        sender.signature("onsale.seatselection.holds_expire_sweep"),
        name="seatselection: release expired holds",
        expires=10,
    )
    sender.add_periodic_task(
        60.0,
        sender.signature("onsale.seatselection.seats_sold_reconcile"),
        name="seatselection: copy sold seats from MySQL to Redis",
        expires=60,
    )


# --- Checkout and orders ------------------------------------------------------
@app.on_after_configure.connect
def _schedule_checkout_tasks(sender: Celery, **_: object) -> None:
    # Unpaid orders past their deadline give their seats back; Idempotency-Key
    # records are kept 24 hours, then purged.
    sender.add_periodic_task(
        30.0,
        sender.signature("onsale.orders.tasks.orders_expire_pending"),
        name="orders: expire unpaid orders and release their seats",
        expires=30,
    )
    # Paid orders whose fulfilment task was lost get it again.
    sender.add_periodic_task(
        60.0,
        sender.signature("onsale.orders.tasks.orders_fulfil_sweep"),
        name="orders: re-enqueue fulfilment of paid orders left without tickets",
        expires=60,
    )
    sender.add_periodic_task(
        3600.0,
        sender.signature("onsale.checkout.tasks.checkout_idempotency_purge"),
        name="checkout: purge expired Idempotency-Key records",
        expires=3600,
    )
