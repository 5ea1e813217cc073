"""Benchmark: tickets sold per minute for one event, end to end through HTTP.

One event with 5,000 reserved seats goes on sale; 64 concurrent buyers
(threads, one keep-alive HTTP connection each) each take an admitted fan and
run what a browser does: `POST /api/v1/events/{id}/holds` (best available N
seats) then `POST /api/v1/checkout` (Idempotency-Key, X-Access-Token, the fake
provider's success card with zero latency), until the event is sold out. The
server is gunicorn on 127.0.0.1 with the production settings, MySQL (MariaDB)
and Redis; a Celery worker fulfils the paid orders (tickets, PDF, email to a
dummy backend) at the same time unless --no-worker.

It prints tickets sold per minute (seats in 201 answers over the sale's wall
time), orders per minute, latency percentiles, and the oversell checks: no
seat in two paid orders (client view), MySQL seat sales == seats answered
sold == paid order lines, and Redis shows exactly those seats sold.

Run (MariaDB at 127.0.0.1:3306 root, Redis at 127.0.0.1:6379, as for tests):

    .venv/bin/python bench/scenarios/checkout.py [--seats 5000] [--buyers 64]
        [--per-order 4] [--web-workers 4] [--web-threads 6] [--no-worker]

It creates its own database (test_onsale_bench_<pid>) and Redis key prefix,
starts and stops its own gunicorn and worker, and removes everything at the
end. Exit status 1 on any oversell or error.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PID = os.getpid()
PREFIX = f"onsale-bench-{PID}:"
WORK = Path(tempfile.mkdtemp(prefix="onsale-bench-"))


def _signing_key() -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = WORK / "jwt.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


# One environment for this process, the web server and the worker.
ENV = {
    "DJANGO_SETTINGS_MODULE": "onsale.config.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "ONSALE_PUBLIC_URL": "http://127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DJANGO_SECURE_COOKIES": "false",
    "DATABASE_URL": f"mysql://root@127.0.0.1:3306/onsale_bench_{PID}",
    "DB_CONN_MAX_AGE": "60",
    "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "REDIS_KEY_PREFIX": PREFIX,
    "ONSALE_BROKER_KEY_PREFIX": PREFIX + "broker:",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "LOG_LEVEL": "WARNING",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "MEDIA_ROOT": str(WORK / "media"),
    "STATIC_ROOT": str(WORK / "static"),
    "FAKE_PAYMENTS_LATENCY_MS": "0",
    "WAITINGROOM_JWT_PRIVATE_KEY_FILE": str(_signing_key()),
    "WAITINGROOM_DEFAULT_MAX_ACTIVE": "1000000",
    "WAITINGROOM_DEFAULT_SESSION_SECONDS": "3600",
    "WAITINGROOM_DEFAULT_MAX_SEATS_PER_FAN": "10",
    "SEAT_HOLD_SECONDS": "600",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from bench.harness.events import bench_event_create  # noqa: E402
from bench.harness.stack import process_tree_cpu_seconds  # noqa: E402
from onsale.events.models import Event  # noqa: E402
from onsale.orders.models import Order, OrderLine  # noqa: E402
from onsale.payments.fake.cards import SUCCESS_CARD  # noqa: E402
from onsale.platform.redis import redis_client  # noqa: E402
from onsale.seatselection import selectors as seat_selectors  # noqa: E402
from onsale.seatselection.models import Seat, SeatSale  # noqa: E402
from onsale.testutils.worker_command import worker_command  # noqa: E402
from onsale.usermgmt.models import User  # noqa: E402
from onsale.usermgmt.services import users_bulk_create  # noqa: E402
from onsale.waitingroom.services import admission_session_start  # noqa: E402

ROW = 50  # seats per row of the benchmark venue (bench_event_create's)


@dataclass(frozen=True)
class Buyer:
    bearer: str
    access_token: str


@dataclass
class Tally:
    orders: int = 0
    sold_seats: list[int] = field(default_factory=list)
    hold_ms: list[float] = field(default_factory=list)
    checkout_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    first_sale: float | None = None
    last_sale: float | None = None


def buyers_create(event: Event, count: int) -> list[Buyer]:
    users_bulk_create(count=count, prefix=f"bench{PID}-", password="bench-password-123")
    users = list(User.objects.filter(email__startswith=f"bench{PID}-").order_by("pk"))
    buyers = []
    for user in users:
        _, bearer = AuthToken.objects.create(user=user)
        grant = admission_session_start(event_id=event.pk, user_id=user.pk)
        buyers.append(Buyer(bearer=bearer, access_token=grant.token))
    return buyers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    config = WORK / "gunicorn_bench.py"
    config.write_text(
        f"bind = '127.0.0.1:{port}'\n"
        f"workers = {workers}\nthreads = {threads}\nworker_class = 'gthread'\n"
        "timeout = 60\nkeepalive = 75\nerrorlog = '-'\nloglevel = 'warning'\n"
        "def post_worker_init(worker):\n"
        "    # Broker keys under this run's prefix (see onsale/testutils/worker_app.py)\n"
        "    from onsale.config.celery import app\n"
        "    app.conf.broker_transport_options = {\n"
        "        **app.conf.broker_transport_options,\n"
        f"        'global_keyprefix': {ENV['ONSALE_BROKER_KEY_PREFIX']!r},\n"
        "    }\n"
    )
    env = {**os.environ, **ENV, "DATABASE_URL": database_url()}
    log = (WORK / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(config),
            "onsale.config.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/healthz", timeout=2
            ) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start; see " + str(WORK / "gunicorn.log"))


def start_worker() -> subprocess.Popen[bytes]:
    env = {**os.environ, **ENV, "DATABASE_URL": database_url()}
    log = (WORK / "worker.log").open("wb")
    return subprocess.Popen(
        worker_command(),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def database_url() -> str:
    return f"mysql://root@127.0.0.1:3306/{connection.settings_dict['NAME']}"


class Http:
    """One keep-alive HTTP/1.1 connection (http.client: a light client, so the
    figure measures the server, not the load generator)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, Any]:
        payload = json.dumps(body)
        for attempt in range(2):
            try:
                self.connection.request(
                    "POST",
                    path,
                    body=payload,
                    headers={**headers, "Content-Type": "application/json"},
                )
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                # A worker recycled the keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=60
                )
                if attempt:
                    raise
        return response.status, json.loads(data) if data else None


def buy(
    port: int,
    event_id: int,
    per_order: int,
    buyers: queue.Queue[Buyer],
    tally: Tally,
    lock: threading.Lock,
    sold_out: threading.Event,
) -> None:
    client = Http(port)
    while not sold_out.is_set():
        try:
            buyer = buyers.get_nowait()
        except queue.Empty:
            return
        headers = {
            "Authorization": f"Bearer {buyer.bearer}",
            "X-Access-Token": buyer.access_token,
        }
        started = time.perf_counter()
        try:
            status, hold = client.post(
                f"/api/v1/events/{event_id}/holds",
                {"category": "A", "quantity": per_order},
                headers,
            )
        except (http.client.HTTPException, OSError) as exc:
            with lock:
                tally.errors.append(f"hold: {exc!r}")
            continue
        held_at = time.perf_counter()
        if status != 201:
            code = hold.get("code", "") if isinstance(hold, dict) else ""
            with lock:
                tally.outcomes[f"hold {status} {code}"] += 1
                if status >= 500:
                    tally.errors.append(f"hold {status}")
            if code in {"not_enough_seats", "seats_unavailable"}:
                sold_out.set()
            continue
        try:
            status, answer = client.post(
                "/api/v1/checkout",
                {
                    "hold_id": hold["hold_id"],
                    "event_id": event_id,
                    "payment": {
                        "card_number": SUCCESS_CARD,
                        "exp_month": 12,
                        "exp_year": 2030,
                        "cvc": "123",
                    },
                    "buyer": {"name": "Bench Buyer", "email": "buyer@example.test"},
                },
                {**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
        except (http.client.HTTPException, OSError) as exc:
            with lock:
                tally.errors.append(f"checkout: {exc!r}")
            continue
        done = time.perf_counter()
        with lock:
            tally.hold_ms.append((held_at - started) * 1000)
            tally.checkout_ms.append((done - held_at) * 1000)
            tally.outcomes[f"checkout {status}"] += 1
            if status == 201:
                tally.orders += 1
                tally.sold_seats.extend(line["seat_id"] for line in answer["lines"])
                tally.first_sale = tally.first_sale or done
                tally.last_sale = done
            elif status >= 500:
                tally.errors.append(f"checkout {status}: {str(answer)[:200]}")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def redis_cleanup() -> None:
    client = redis_client()
    batch = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
    for start in range(0, len(batch), 1000):
        client.unlink(*batch[start : start + 1000])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=5_000)
    parser.add_argument("--buyers", type=int, default=64, help="concurrent buyers")
    parser.add_argument("--per-order", type=int, default=4, help="seats per order")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=6)
    parser.add_argument(
        "--no-worker", action="store_true", help="no Celery worker during the sale"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the figures to this file (for bench/run.py)",
    )
    options = parser.parse_args()
    if options.seats % ROW:
        parser.error(f"--seats must be a multiple of {ROW}")

    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = worker = None
    keep_logs = [True]  # emptied once the run passed
    try:
        event = bench_event_create(
            seats=options.seats, name="Benchmark on-sale", open_now=True
        )
        fans = options.seats // options.per_order + options.buyers
        print(
            f"setting up: {options.seats:,} seats, {fans:,} admitted fans ...",
            flush=True,
        )
        buyers: queue.Queue[Buyer] = queue.Queue()
        for buyer in buyers_create(event, fans):
            buyers.put(buyer)
        connection.close()
        port = free_port()
        server = start_server(port, options.web_workers, options.web_threads)
        if not options.no_worker:
            worker = start_worker()
        tally, lock, sold_out = Tally(), threading.Lock(), threading.Event()
        threads = [
            threading.Thread(
                target=buy,
                args=(port, event.pk, options.per_order, buyers, tally, lock, sold_out),
            )
            for _ in range(options.buyers)
        ]
        print(
            f"on-sale: {options.buyers} concurrent buyers, {options.per_order} seats per order, "
            f"gunicorn {options.web_workers}x{options.web_threads} threads, "
            f"{'a Celery worker fulfilling meanwhile' if worker else 'no worker'}; "
            f"{os.cpu_count()} CPUs shared with MariaDB, Redis and the clients",
            flush=True,
        )
        load_before = os.getloadavg()[0]
        web_cpu = process_tree_cpu_seconds(server.pid)
        worker_cpu = process_tree_cpu_seconds(worker.pid) if worker else 0.0
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        web_cpu = process_tree_cpu_seconds(server.pid) - web_cpu
        worker_cpu = (
            (process_tree_cpu_seconds(worker.pid) - worker_cpu) if worker else 0
        )

        sold = len(tally.sold_seats)
        per_minute = sold / elapsed * 60 if elapsed else 0.0
        print(f"\nsold {sold:,} tickets in {tally.orders:,} orders in {elapsed:.1f} s")
        print(f"tickets per minute: {per_minute:,.0f} (target >= 10,000)")
        print(f"orders per minute:  {tally.orders / elapsed * 60:,.0f}")
        print(
            f"latency ms: hold p50 {percentile(tally.hold_ms, 0.5):.0f} p99 {percentile(tally.hold_ms, 0.99):.0f}; "
            f"checkout p50 {percentile(tally.checkout_ms, 0.5):.0f} p99 {percentile(tally.checkout_ms, 0.99):.0f} "
            f"mean {statistics.fmean(tally.checkout_ms) if tally.checkout_ms else 0:.0f}"
        )
        print("answers:", dict(sorted(tally.outcomes.items())))
        orders = max(tally.orders, 1)
        print(
            f"CPU per order during the sale: web (gunicorn) {web_cpu / orders * 1000:.1f} ms"
            + (f", worker {worker_cpu / orders * 1000:.1f} ms" if worker else "")
            + f"; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
            "(other processes on this machine slow the figure down)"
        )

        # Oversell checks.
        connection.connect()
        duplicates = sum(
            count - 1 for count in Counter(tally.sold_seats).values() if count > 1
        )
        mysql_sold = set(
            SeatSale.objects.filter(event=event).values_list("seat_id", flat=True)
        )
        paid_lines = OrderLine.objects.filter(
            order__event=event, order__state=Order.State.PAID
        ).count()
        snapshot = seat_selectors.availability_snapshot(event_id=event.pk)
        redis_sold = {
            seat_id
            for seat_id, index in Seat.objects.filter(event=event).values_list(
                "pk", "index"
            )
            if snapshot.is_unavailable(index)
        }
        print(
            f"oversell: seats in two orders {duplicates}; MySQL seat sales {len(mysql_sold):,}, "
            f"answered sold {len(set(tally.sold_seats)):,}, paid order lines {paid_lines:,}, "
            f"shown taken in Redis {len(redis_sold):,}; capacity {options.seats:,}"
        )
        failures = duplicates + len(tally.errors)
        failures += int(
            not (mysql_sold == set(tally.sold_seats) and paid_lines == sold)
        )
        failures += int(sold > options.seats) + int(not redis_sold >= mysql_sold)
        if worker is not None:
            drain_started = time.perf_counter()
            deadline = drain_started + 600
            while time.perf_counter() < deadline:
                waiting = Order.objects.filter(
                    event=event, state=Order.State.PAID, emailed_at__isnull=True
                ).count()
                if waiting == 0:
                    break
                time.sleep(1)
            issued = Order.objects.filter(
                event=event, tickets_issued_at__isnull=False
            ).count()
            print(
                f"fulfilment: {issued:,} of {tally.orders:,} orders ticketed and emailed by one "
                f"worker, {time.perf_counter() - drain_started:.1f} s after the sale ended"
            )
        for error in tally.errors[:10]:
            print("error:", error, file=sys.stderr)
        print("zero oversell" if failures == 0 else f"FAILED: {failures} problems")
        if options.json is not None:
            options.json.write_text(
                json.dumps(
                    {
                        "seats": options.seats,
                        "buyers": options.buyers,
                        "per_order": options.per_order,
                        "web_workers": options.web_workers,
                        "web_threads": options.web_threads,
                        "tickets": sold,
                        "orders": tally.orders,
                        "seconds": elapsed,
                        "tickets_per_minute": per_minute,
                        "orders_per_minute": tally.orders / elapsed * 60
                        if elapsed
                        else 0.0,
                        "hold_p50_ms": percentile(tally.hold_ms, 0.5),
                        "hold_p99_ms": percentile(tally.hold_ms, 0.99),
                        "checkout_p50_ms": percentile(tally.checkout_ms, 0.5),
                        "checkout_p99_ms": percentile(tally.checkout_ms, 0.99),
                        "web_cpu_ms_per_order": web_cpu / orders * 1000,
                        "worker_cpu_ms_per_order": worker_cpu / orders * 1000,
                        "failures": failures,
                    },
                    indent=1,
                )
            )
        if failures:
            print(f"server and worker logs kept in {WORK}", file=sys.stderr)
        else:
            keep_logs.clear()
        return 1 if failures else 0
    finally:
        for process in (worker, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        connection.close()
        connection.creation.destroy_test_db(original, verbosity=0)
        redis_cleanup()
        if not keep_logs:
            shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
