"""End to end with a real Celery worker process: checkout over the API, the
worker issues the tickets, ends the session and emails them; a timeout card's
retries run in the worker with real countdowns and end in compensation."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from onsale.checkout.tests.helpers import (
    Shopper,
    seat_ids,
    seat_unavailable,
    seated_event,
)
from onsale.checkout.tests.worker_command import worker_command
from onsale.config.celery import app as celery_app
from onsale.orders.models import Order
from onsale.payments.fake.cards import TIMEOUT_CARD
from onsale.payments.fake.models import FakeProviderCharge
from onsale.seatselection.models import SeatSale
from onsale.waitingroom.access import access_token_verify
from onsale.waitingroom.exceptions import AccessSessionEnded

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def wait_for(check, timeout: float = 90.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting for the worker")


def _reset_broker_connections() -> None:
    # New broker options apply to connections made from now on. The pools
    # themselves are kombu's, shared by the process: dropped, never closed.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker_start(settings: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Starts `celery worker` subprocesses on the test database, Redis prefix
    and a broker key prefix of their own (this process publishes there from
    now on); each call starts one, waits until it is ready and returns its
    `subprocess.Popen`; `extra_env` adds to its environment. Emails go to
    `tmp_path / "mail"`. Workers still
    running at the end are stopped."""
    prefix = django_settings.REDIS_KEY_PREFIX + "broker:"
    emails, media = tmp_path / "mail", tmp_path / "media"
    emails.mkdir()
    settings.MEDIA_ROOT = str(media)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.checkout.tests.worker_settings",
        "ONSALE_WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "ONSALE_WORKER_EMAIL_DIR": str(emails),
        "ONSALE_WORKER_MEDIA_ROOT": str(media),
        "ONSALE_BROKER_KEY_PREFIX": prefix,
        "REDIS_KEY_PREFIX": django_settings.REDIS_KEY_PREFIX,
        "FAKE_PAYMENTS_TIMEOUT_LATENCY_MS": "0",
        "CHECKOUT_CHARGE_MAX_RETRIES": "1",
    }
    started: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log_path = tmp_path / f"worker-{len(started)}.log"
        log = log_path.open("w")
        process = subprocess.Popen(
            worker_command(solo=True, loglevel="INFO"),
            cwd=ROOT,
            env={**env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        wait_for(lambda: "ready" in log_path.read_text(), timeout=120)
        return process

    # This process publishes to the same prefixed broker keys, for real.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    options = celery_app.conf.broker_transport_options
    celery_app.conf.broker_transport_options = {**options, "global_keyprefix": prefix}
    _reset_broker_connections()
    try:
        yield start
    finally:
        for process, log in started:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
        celery_app.conf.broker_transport_options = options
        _reset_broker_connections()


@pytest.fixture
def worker(worker_start: Callable[[], Any], tmp_path: Path) -> Path:
    """One running worker; returns the folder it writes emails to."""
    worker_start()
    return tmp_path / "mail"


def test_a_real_worker_fulfils_a_checkout_and_compensates_a_timeout(
    worker: Path,
) -> None:
    # given an admitted fan holding two seats
    event = seated_event()
    shopper = Shopper(event)
    seats = seat_ids(event)[:2]
    hold = shopper.hold(seats)

    # when they pay: the API answers once the charge is done
    response = shopper.checkout(hold.hold_id)
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]

    # then the worker issues the tickets and emails them
    order = wait_for(
        lambda: Order.objects.filter(pk=order_id, emailed_at__isnull=False).first()
    )
    tickets = list(order.tickets.all())
    assert len(tickets) == 2
    assert order.pdf.name.endswith(".pdf")
    [mail_file] = list(worker.iterdir())
    mail = mail_file.read_text()
    assert "To: ada@example.test" in mail
    assert all(ticket.code in mail for ticket in tickets)
    assert "application/pdf" in mail
    with pytest.raises(AccessSessionEnded):
        access_token_verify(
            token=shopper.token, user_id=shopper.user.pk, event_id=event.pk
        )

    # and a timeout card: 202, the worker retries with a real countdown, then
    # compensates: the charge it could not confirm is refunded, seats freed
    other = Shopper(event)
    other_seats = seat_ids(event)[2:3]
    other_hold = other.hold(other_seats)
    pending = other.checkout(other_hold.hold_id, card=TIMEOUT_CARD)
    assert pending.status_code == 202
    assert pending.json()["state"] == "pending"
    failed = wait_for(
        lambda: Order.objects.filter(
            pk=pending.json()["id"], state="failed", refunded_amount__gt=0
        ).first()
    )
    assert failed.failure_reason == "payment_timeout"
    charge = FakeProviderCharge.objects.get(idempotency_key=failed.payment_key)
    assert charge.amount_refunded == charge.amount
    assert SeatSale.objects.filter(order_reference=str(failed.pk)).count() == 0
    assert not seat_unavailable(event, other_seats[0])
