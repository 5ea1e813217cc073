"""A real Celery worker SIGKILLed inside the ticket-issue task of a paid
order: no charge without an order, no double charge, one set of tickets.

The kill point is made deterministic without any production hook: the test
holds the order's row lock (SELECT ... FOR UPDATE), so the worker's
`INSERT INTO orders_ticket` (its foreign-key check needs a shared lock on that
row) waits inside the ticket transaction; the test sees that lock wait in
`information_schema.INNODB_TRX` and kills the worker there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from onsale.orders.ledger_reconcile import fake_ledger_reconcile
from onsale.orders.models import Order, Ticket
from onsale.orders.tasks import orders_fulfil_sweep
from onsale.payments.fake.models import FakeProviderCharge
from onsale.testutils.checkout import Shopper, seated_event
from onsale.testutils.seats import seat_ids
from onsale.testutils.worker import wait_for, worker_start

__all__ = ["worker_start"]  # the fixture, imported so pytest finds it here

TICKET_INSERT_WAITS = """
    SELECT t.trx_mysql_thread_id
    FROM information_schema.INNODB_TRX t
    JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
    WHERE p.DB = %s AND t.trx_state = 'LOCK WAIT'
      AND t.trx_query LIKE 'INSERT INTO `orders_ticket`%%'
"""


def _mysql_threads_waiting_on_ticket_insert() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(TICKET_INSERT_WAITS, [connection.settings_dict["NAME"]])
        return [row[0] for row in cursor.fetchall()]


def _mysql_transaction_open(thread_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX"
            " WHERE trx_mysql_thread_id = %s",
            [thread_id],
        )
        return bool(cursor.fetchone()[0])


def _workers_of_this_run(prefix: str) -> list[int]:
    """Pids of live processes started with this run's broker key prefix."""
    marker = f"ONSALE_BROKER_KEY_PREFIX={prefix}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state != "Z":
            pids.append(int(entry.name))
    return pids


def _paid_order_awaiting_fulfilment(settings: Any) -> tuple[int, list[int]]:
    """A fan checks out 3 seats through the API with the fake provider (no
    latency, no faults); the order is paid and its fulfilment task waits in
    the broker. Returns the order id and the seats."""
    settings.FAKE_PAYMENTS_LATENCY_MS = 0
    settings.FAKE_PAYMENTS_FAULT_RATE = 0.0
    event = seated_event()
    shopper = Shopper(event)
    seats = seat_ids(event)[:3]
    response = shopper.checkout(shopper.hold(seats).hold_id)
    assert response.status_code == 201, response.content
    order_id = int(response.json()["id"])
    assert Order.objects.get(pk=order_id).state == Order.State.PAID
    return order_id, seats


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_inside_ticket_issue_leaves_one_charge_and_one_set_of_tickets(
    worker_start: Callable[..., subprocess.Popen[bytes]],
    settings: Any,
    tmp_path: Path,
) -> None:
    started = time.monotonic()

    # given a paid order whose fulfilment task waits in the broker (no worker
    # runs yet)
    order_id, seats = _paid_order_awaiting_fulfilment(settings)
    order = Order.objects.get(pk=order_id)

    # when a worker takes the task and is SIGKILLed while inside the ticket
    # transaction (blocked on the order row this test locks)
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_id)
        first = worker_start()
        [thread_id] = wait_for(_mysql_threads_waiting_on_ticket_insert, timeout=60)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    # MariaDB rolls the dead client's transaction back: nothing was issued
    wait_for(lambda: not _mysql_transaction_open(thread_id), timeout=30)
    assert Ticket.objects.filter(order_id=order_id).count() == 0
    order.refresh_from_db()
    assert order.state == Order.State.PAID
    assert order.tickets_issued_at is None
    assert order.emailed_at is None

    # A fresh worker does not get the task back: the Redis broker redelivers
    # an unacknowledged (acks_late) task only after `visibility_timeout`
    # (3600 s). What recovers it is the beat task `orders_fulfil_sweep`,
    # which re-enqueues paid orders without tickets a minute after payment.
    second = worker_start()
    time.sleep(2)
    assert Ticket.objects.filter(order_id=order_id).count() == 0
    Order.objects.filter(pk=order_id).update(
        paid_at=timezone.now() - timedelta(seconds=61)
    )
    orders_fulfil_sweep.delay()  # as beat sends it: default arguments

    # then the order is fulfilled once: one charge, one ticket per seat, one
    # email, and the ledger reconciles
    order = wait_for(
        lambda: Order.objects.filter(pk=order_id, emailed_at__isnull=False).first()
    )
    assert order.state == Order.State.PAID
    assert order.tickets_issued_at is not None
    tickets = Ticket.objects.filter(order_id=order_id)
    assert sorted(tickets.values_list("line__seat_id", flat=True)) == sorted(seats)
    assert len({ticket.code for ticket in tickets}) == 3
    charges = FakeProviderCharge.objects.filter(idempotency_key=order.payment_key)
    assert [(c.status, c.amount) for c in charges] == [
        (FakeProviderCharge.Status.SUCCEEDED, order.total)
    ]
    assert FakeProviderCharge.objects.count() == 1
    assert fake_ledger_reconcile() == []
    assert len(list((tmp_path / "mail").iterdir())) == 1

    # and no worker is left running
    second.terminate()
    second.wait(timeout=30)
    prefix = django_settings.REDIS_KEY_PREFIX + "broker:"
    assert _workers_of_this_run(prefix) == []
    print(
        f"[drill] worker SIGKILLed in ticket issue (mysql thread {thread_id}):"
        f" 1 order, {len(seats)} seats, charges 1, tickets {tickets.count()},"
        f" emails 1, ledger mismatches 0, {time.monotonic() - started:.1f} s"
    )


class SilentMailServer:
    """A TCP listener on 127.0.0.1 that accepts SMTP connections and never
    answers: a mail server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(client)

    def close(self) -> None:
        for client in self.accepted:
            client.close()
        self.sock.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_the_email_leaves_one_email_and_no_double(
    worker_start: Callable[..., subprocess.Popen[bytes]],
    settings: Any,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    mail_server = SilentMailServer()

    # given a paid order whose fulfilment waits in the broker
    order_id, _seats = _paid_order_awaiting_fulfilment(settings)

    # when a worker issues the tickets, stores the PDF, and is SIGKILLed while
    # its mail server hangs in the middle of the send
    first = worker_start(
        {
            "ONSALE_WORKER_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "ONSALE_WORKER_EMAIL_PORT": str(mail_server.port),
        }
    )
    wait_for(lambda: mail_server.accepted, timeout=60)
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    mail_server.close()
    order = Order.objects.get(pk=order_id)
    assert Ticket.objects.filter(order_id=order_id).count() == 3
    assert order.pdf
    assert order.emailed_at is None
    assert order.email_claimed_until is not None
    assert order.email_claimed_until > timezone.now()

    # the sweep finds the email unsent, but a worker does not send it while
    # the dead worker's claim runs: a send that was only slow is never doubled
    second = worker_start()
    Order.objects.filter(pk=order_id).update(
        paid_at=timezone.now() - timedelta(seconds=61)
    )
    orders_fulfil_sweep.delay()
    time.sleep(3)
    mails = tmp_path / "mail"
    assert list(mails.iterdir()) == []
    assert Order.objects.get(pk=order_id).emailed_at is None

    # once the claim has run out, the next sweep sends it: exactly one email
    Order.objects.filter(pk=order_id).update(
        email_claimed_until=timezone.now() - timedelta(seconds=1)
    )
    orders_fulfil_sweep.delay()
    order = wait_for(
        lambda: Order.objects.filter(pk=order_id, emailed_at__isnull=False).first()
    )
    time.sleep(1)
    assert len(list(mails.iterdir())) == 1
    assert order.email_claimed_until is None
    assert Ticket.objects.filter(order_id=order_id).count() == 3
    assert FakeProviderCharge.objects.count() == 1
    assert fake_ledger_reconcile() == []

    second.terminate()
    second.wait(timeout=30)
    print(
        f"[drill] worker SIGKILLed mid-email (mail server hung): 1 order,"
        f" tickets 3, charges 1, emails 1, ledger mismatches 0,"
        f" {time.monotonic() - started:.1f} s"
    )
