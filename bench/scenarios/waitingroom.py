#!/usr/bin/env python
"""Waiting room benchmark: one command, one table.

    .venv/bin/python bench/scenarios/waitingroom.py            # the full run
    .venv/bin/python bench/scenarios/waitingroom.py --quick    # ~1 minute

It starts gunicorn on 127.0.0.1 (the project's gunicorn.conf.py: gthread
workers, as in production) against a MySQL database of its own (MariaDB at
127.0.0.1:3306, `onsale_bench_<pid>`, dropped at the end) and the local Redis
(its own key prefix, removed at the end), registers fans in bulk
(`create_users`), signs them in (session cookies written straight into the
session cache, as a login would), and measures with wrk:

- empty-view req/s (`/bench/empty`, an empty DRF view without authentication,
  mounted because ONSALE_BENCH_VIEWS is on), and the same for an empty view
  behind the join's own authentication (`/bench/waitingroom/authenticated-empty`);
- joins/s through HTTP (`POST /api/v1/events/{id}/queue`, every request a
  different signed-in fan, session cookie + CSRF token, as the web page does);
- status polls/s (`GET .../queue/status`, with the per-process memo on, as in
  production) and the ratio join / empty;
- admission accuracy: a long queue admitted at `--rate` per minute with
  `--burst` for `--accuracy-seconds` (default 60), evaluated by a beat-like
  loop every second while wrk polls the room's status (every poll may
  evaluate too). admitted / (burst + rate * elapsed / 60) and whether the
  count was ever above that bound;
- Redis bytes per waiting fan with `--memory-fans` fans (default 100,000):
  MEMORY USAGE summed over the event's keys, in the pre-queue and numbered,
  and how long the pre-queue draw of all of them took.

Application logs are at WARNING (one JSON line per request would be written by
every endpoint alike). Nothing here is part of the test suite; the memory
measurement is importable (`memory_per_fan`) for a small smoke test.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: the repository's `bench` package
    sys.path.insert(0, str(ROOT))

from bench.harness.wrk import WRK, WrkResult, wrk_median, wrk_run  # noqa: E402

JOIN_SCRIPT = ROOT / "bench" / "wrk" / "waitingroom_join.lua"

# --- measurements usable from tests -------------------------------------------


@dataclass(frozen=True)
class MemoryFigures:
    fans: int
    prequeue_bytes_per_fan: float
    numbered_bytes_per_fan: float
    used_memory_delta_per_fan: float
    draw_seconds: float


def _event_keys_bytes(event_id: int) -> int:
    from django.conf import settings

    from onsale.platform.redis import redis_client
    from onsale.waitingroom.keys import event_tag

    client = redis_client()
    pattern = f"{settings.REDIS_KEY_PREFIX}wr:{event_tag(event_id)}:*"
    total = 0
    for key in client.scan_iter(match=pattern, count=1000):
        total += int(client.memory_usage(key, samples=0) or 0)
    return total


def memory_per_fan(
    *, fans: int, event_id: int, first_user_id: int = 1_000_000
) -> MemoryFigures:
    """Put `fans` fans in the pre-queue of a room that exists only in Redis
    (the join script, pipelined), measure, open the room (the draw numbers
    them all), measure again. Uses the current settings' Redis and prefix and
    deletes the event's keys afterwards."""
    from onsale.platform.redis import redis_client
    from onsale.waitingroom import scripts
    from onsale.waitingroom.keys import waitingroom_key

    client = redis_client()
    now_ms = int(time.time() * 1000)
    scripts.config_put_run(
        event_id=event_id,
        version=1,
        fields={
            "state": "prequeue",
            "ev": "published",
            "pq_at": now_ms - 60_000,
            "onsale": now_ms + 3_600_000,
            "rate": 600,
            "burst": 50,
            "max_active": 500,
            "session_s": 600,
            "claim_s": 120,
            "max_seats": 6,
        },
    )
    base = _event_keys_bytes(event_id)
    before = int(client.info("memory")["used_memory"])
    pipe = client.pipeline(transaction=False)
    for index in range(fans):
        scripts.join_queue_on(pipe, event_id=event_id, user_id=first_user_id + index)
        if index % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    prequeue = (_event_keys_bytes(event_id) - base) / fans
    client.hset(waitingroom_key(event_id, "cfg"), "state", "open")
    started = time.perf_counter()
    drawn = scripts.draw_run(event_id=event_id, seed=secrets.token_hex(16))
    draw_seconds = time.perf_counter() - started
    assert drawn.size == fans, drawn
    numbered = (_event_keys_bytes(event_id) - base) / fans
    after = int(client.info("memory")["used_memory"])
    for key in list(client.scan_iter(match=waitingroom_key(event_id, "*"), count=1000)):
        client.unlink(key)
    return MemoryFigures(
        fans=fans,
        prequeue_bytes_per_fan=prequeue,
        numbered_bytes_per_fan=numbered,
        used_memory_delta_per_fan=(after - before) / fans,
        draw_seconds=draw_seconds,
    )


# --- the run ------------------------------------------------------------------


def _environment(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    pem = workdir / "jwt.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pid = os.getpid()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEW_RELIC_", "DJANGO_", "WAITINGROOM_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "onsale.config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "ONSALE_PUBLIC_URL": "http://127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DATABASE_URL": f"{args.mysql_url.rstrip('/')}/onsale_bench_{pid}",
            "REDIS_URL": args.redis_url,
            "REDIS_KEY_PREFIX": f"onsale-bench-{pid}:",
            "WAITINGROOM_JWT_PRIVATE_KEY_FILE": str(pem),
            "WAITINGROOM_JOIN_LIMIT_PER_IP": "1000000000",
            "ONSALE_BENCH_VIEWS": "true",
            "LOG_LEVEL": "WARNING",
            "ONSALE_VAR_DIR": str(workdir / "var"),
            "GUNICORN_BIND": f"127.0.0.1:{args.port}",
            "WEB_CONCURRENCY": str(args.workers),
            "WEB_THREADS": str(args.threads),
            "GUNICORN_MAX_REQUESTS": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _mysql(args: argparse.Namespace, statement: str) -> None:
    from bench.harness.stack import mysql_execute

    mysql_execute(args.mysql_url, statement)


def _manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/bench/empty", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")


def _signed_in_fans(workdir: Path, prefix: str) -> tuple[Path, int]:
    """Sessions for every bench fan, written into the session cache the way a
    sign-in writes them, with the account's session check cached as a
    sign-in caches it; returns the credentials file for wrk and the count."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.cache import caches
    from django.middleware.csrf import CSRF_ALLOWED_CHARS
    from django.utils.crypto import get_random_string

    from onsale.usermgmt.models import User
    from onsale.usermgmt.selectors import account_session_prime

    fans = User.objects.filter(email__startswith=prefix).order_by("pk")
    sample = fans.first()
    assert sample is not None
    # Bulk-created fans share one password hash, hence one session hash.
    session_hash = sample.get_session_auth_hash()
    cache = caches[settings.SESSION_CACHE_ALIAS]
    credentials = workdir / "fans.txt"
    count = 0
    with credentials.open("w") as out:
        batch: dict[str, dict[str, str]] = {}
        for fan in fans.only(
            "pk", "password", "is_active", "role", "organization", "is_staff"
        ):
            user_id = fan.pk
            account_session_prime(user=fan)
            session_key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            csrf = get_random_string(32, CSRF_ALLOWED_CHARS)
            batch[SessionStore.cache_key_prefix + session_key] = {
                SESSION_KEY: str(user_id),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: session_hash,
            }
            out.write(f"{session_key} {csrf}\n")
            count += 1
            if len(batch) >= 2000:
                cache.set_many(batch, timeout=3600)
                batch = {}
        if batch:
            cache.set_many(batch, timeout=3600)
    return credentials, count


def _room(*, staff: Any, state: str, **fields: Any) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from onsale.events.models import Event
    from onsale.usermgmt.models import Organization
    from onsale.waitingroom import services

    organization, _ = Organization.objects.get_or_create(name="Bench organization")
    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        name=f"Bench {state}",
        venue_name="Bench arena",
        onsale_at=now - timedelta(minutes=1),
        starts_at=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
    )
    services.waitingroom_config_update(
        event_id=event.pk,
        actor=staff,
        state=state,
        prequeue_opens_at=now - timedelta(minutes=2),
        onsale_at=now - timedelta(minutes=1),
        **fields,
    )
    return event.pk


@dataclass(frozen=True)
class AccuracyFigures:
    seconds: float
    admitted: int
    theoretical: float
    over_admitted_max: int
    evaluations: int
    measured_rate_per_minute: float | None
    status_polls: WrkResult | None


def admission_accuracy(
    *,
    event_id: int,
    staff: Any,
    rate: int,
    burst: int,
    seconds: float,
    status_url: str | None,
    wrk_threads: int = 1,
    wrk_connections: int = 16,
) -> AccuracyFigures:
    """Fill the (paused) room with more fans than it can admit, open it, and
    evaluate it every second for `seconds` while wrk polls its status; check
    after every evaluation that admitted <= burst + rate * elapsed / 60."""
    from onsale.platform.redis import redis_client
    from onsale.waitingroom import admission, scripts, services

    fans = burst + int(rate * seconds / 60 * 1.2) + 100
    client = redis_client()
    pipe = client.pipeline(transaction=False)
    for index in range(fans):
        scripts.join_queue_on(pipe, event_id=event_id, user_id=5_000_000 + index)
    pipe.execute()
    services.waitingroom_config_update(event_id=event_id, actor=staff, state="open")
    first = admission.admission_evaluate(event_id=event_id)
    start_ms, start_total = first.now_ms, first.admitted_total
    assert start_total == burst, first

    polls: list[WrkResult] = []
    poller = None
    if status_url:
        poller = threading.Thread(
            target=lambda: polls.append(
                wrk_run(
                    status_url,
                    seconds=seconds,
                    threads=wrk_threads,
                    connections=wrk_connections,
                )
            )
        )
        poller.start()
    over_max = 0
    evaluations = 0
    deadline = time.monotonic() + seconds
    last = first
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        last = admission.admission_evaluate(event_id=event_id)
        evaluations += 1
        # Exact: admitted * 60000 <= burst * 60000 + rate * elapsed_ms.
        bound_units = burst * 60_000 + rate * (last.now_ms - start_ms)
        excess_units = last.admitted_total * 60_000 - bound_units
        if excess_units > 0:
            over_max = max(over_max, -(-excess_units // 60_000))
    if poller is not None:
        poller.join()
    elapsed_ms = last.now_ms - start_ms
    status = admission.admission_evaluate(event_id=event_id)
    return AccuracyFigures(
        seconds=elapsed_ms / 1000,
        admitted=last.admitted_total,
        theoretical=burst + rate * elapsed_ms / 60_000,
        over_admitted_max=over_max,
        evaluations=evaluations,
        measured_rate_per_minute=status.measured_rate_per_minute,
        status_polls=polls[0] if polls else None,
    )


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print()
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>{value_width}}  {note}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds per wrk run"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--accuracy-seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=600, help="admissions per minute")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--fans", type=int, default=40_000, help="signed-in fans for the joins"
    )
    parser.add_argument("--memory-fans", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short runs: 5 s per wrk run, 10 s accuracy, 20,000 fans in memory",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.accuracy_seconds, args.rounds = 4.0, 10.0, 3
        args.fans, args.memory_fans = min(args.fans, 15_000), 20_000
    if not Path(WRK).exists():
        raise SystemExit("wrk is needed (apt-get install wrk)")

    workdir = Path(tempfile.mkdtemp(prefix="onsale-bench-"))
    env = _environment(args, workdir)
    os.environ.update(env)
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    base_url = f"http://127.0.0.1:{args.port}"
    log = workdir / "gunicorn.log"
    server: subprocess.Popen[bytes] | None = None
    print(
        f"onsale waiting room benchmark: gunicorn {args.workers}x{args.threads} "
        f"(gthread) on {base_url}, MySQL database {database}, Redis "
        f"{args.redis_url} prefix {env['REDIS_KEY_PREFIX']}, {os.cpu_count()} CPUs"
    )
    _mysql(args, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    try:
        started = time.perf_counter()
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "create_users", "--count", str(args.fans), "--prefix", "benchfan")
        import django

        django.setup()
        from onsale.usermgmt.models import User

        staff = User.objects.create_user(
            "bench-staff@example.test", secrets.token_urlsafe(16), role=User.Role.STAFF
        )
        credentials, fan_count = _signed_in_fans(workdir, "benchfan")
        join_event = _room(staff=staff, state="open", rate_per_minute=600, burst=50)
        accuracy_event = _room(
            staff=staff,
            state="paused",
            rate_per_minute=args.rate,
            burst=args.burst,
            max_active=1_000_000,
        )
        print(
            f"set up in {time.perf_counter() - started:.1f}s: {fan_count} fans signed in"
        )

        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(ROOT / "gunicorn.conf.py"),
                ],
                env=env,
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_ready(base_url, server, log)
        wrk_options = {
            "seconds": args.duration,
            "threads": args.wrk_threads,
            "connections": args.connections,
            "server_pid": server.pid,
        }
        # Warm every worker and connection pool first.
        wrk_run(f"{base_url}/bench/empty", **{**wrk_options, "seconds": 2})
        join_path = f"/api/v1/events/{join_event}/queue"
        status_url = f"{base_url}/api/v1/events/{join_event}/queue/status"
        # The machine may be busy with other work: the three measurements run
        # interleaved, several rounds, and the medians are reported.
        empties: list[WrkResult] = []
        signed_in: list[WrkResult] = []
        joins_runs: list[WrkResult] = []
        statuses: list[WrkResult] = []
        first_fan = 0
        for round_number in range(1, args.rounds + 1):
            empties.append(wrk_run(f"{base_url}/bench/empty", **wrk_options))
            signed_in.append(
                wrk_run(
                    base_url,
                    script=JOIN_SCRIPT,
                    script_args=[
                        str(credentials),
                        "/bench/waitingroom/authenticated-empty",
                        str(args.wrk_threads),
                        "0",
                    ],
                    **wrk_options,
                )
            )
            joins_runs.append(
                wrk_run(
                    base_url,
                    script=JOIN_SCRIPT,
                    script_args=[
                        str(credentials),
                        join_path,
                        str(args.wrk_threads),
                        str(first_fan),
                    ],
                    **wrk_options,
                )
            )
            first_fan += joins_runs[-1].requests + args.connections
            statuses.append(wrk_run(status_url, **wrk_options))
            print(
                f"round {round_number}: empty {empties[-1].requests_per_second:.0f}, "
                f"signed-in empty {signed_in[-1].requests_per_second:.0f}, "
                f"join {joins_runs[-1].requests_per_second:.0f}, "
                f"status {statuses[-1].requests_per_second:.0f} req/s"
            )
        if first_fan > fan_count:
            print(f"note: {first_fan} joins for {fan_count} fans: some were repeats")
        empty, signed_in_empty, joins, status = (
            wrk_median(empties),
            wrk_median(signed_in),
            wrk_median(joins_runs),
            wrk_median(statuses),
        )
        ratios = sorted(
            j.requests_per_second / e.requests_per_second
            for j, e in zip(joins_runs, empties, strict=True)
        )
        cpu = {
            name: statistics.median(r.server_cpu_ms or 0.0 for r in runs)
            for name, runs in (
                ("empty", empties),
                ("signed_in", signed_in),
                ("join", joins_runs),
                ("status", statuses),
            )
        }
        signed_in_ratios = sorted(
            j.requests_per_second / e.requests_per_second
            for j, e in zip(joins_runs, signed_in, strict=True)
        )
        from onsale.waitingroom.selectors import queue_status_get

        issued = queue_status_get(event_id=join_event).issued
        print(f"admission accuracy over {args.accuracy_seconds:.0f} s ...")
        accuracy = admission_accuracy(
            event_id=accuracy_event,
            staff=staff,
            rate=args.rate,
            burst=args.burst,
            seconds=args.accuracy_seconds,
            status_url=f"{base_url}/api/v1/events/{accuracy_event}/queue/status",
            wrk_threads=args.wrk_threads,
            wrk_connections=max(4, args.connections // 2),
        )
        print(f"Redis memory with {args.memory_fans} fans ...")
        memory = memory_per_fan(
            fans=args.memory_fans, event_id=10_000_000 + os.getpid()
        )
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        from bench.harness.stack import redis_keys_delete

        redis_keys_delete(args.redis_url, env["REDIS_KEY_PREFIX"])
        _mysql(args, f"DROP DATABASE IF EXISTS `{database}`")
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = ratios[len(ratios) // 2]
    accuracy_ratio = accuracy.admitted / accuracy.theoretical
    rows = [
        (
            "empty view (DRF, no auth)",
            f"{empty.requests_per_second:,.0f} req/s",
            f"p50 {empty.p50}  p99 {empty.p99}",
        ),
        (
            "empty view, signed in (POST)",
            f"{signed_in_empty.requests_per_second:,.0f} req/s",
            f"p50 {signed_in_empty.p50}  p99 {signed_in_empty.p99}  (the join's session "
            "authentication + CSRF, nothing else)",
        ),
        (
            "joins through HTTP",
            f"{joins.requests_per_second:,.0f} req/s",
            f"p50 {joins.p50}  p99 {joins.p99}  ({issued:,} numbers issued in all, "
            f"{sum(r.non_2xx for r in joins_runs)} non-2xx"
            f"{', errors ' + joins.errors if joins.errors else ''})",
        ),
        (
            "status polls",
            f"{status.requests_per_second:,.0f} req/s",
            f"p50 {status.p50}  p99 {status.p99}  (process memo "
            f"{os.environ.get('WAITINGROOM_STATUS_MEMO_MS', '500')} ms)",
        ),
        (
            "join / empty",
            f"{ratio:.2f}",
            f"median of rounds {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.60",
        ),
        (
            "gunicorn CPU per request",
            f"{cpu['join']:.2f} ms",
            f"join; empty {cpu['empty']:.2f}, signed-in empty "
            f"{cpu['signed_in']:.2f}, status {cpu['status']:.2f} ms (medians)",
        ),
        (
            "join / empty by gunicorn CPU",
            f"{cpu['empty'] / cpu['join']:.2f}",
            "what the rate ratio tends to with the CPUs to itself (Redis, MySQL aside)",
        ),
        (
            "join / signed-in empty",
            f"{signed_in_ratios[len(signed_in_ratios) // 2]:.2f}",
            "the queue's own cost on top of signing the fan in",
        ),
        (
            f"admission accuracy ({accuracy.seconds:.0f} s)",
            f"{accuracy_ratio:.4f}",
            f"{accuracy.admitted} admitted / {accuracy.theoretical:.1f} theoretical "
            f"(burst {args.burst} + {args.rate}/min); target 1.00 +- 0.01",
        ),
        (
            "over-admission",
            "never"
            if accuracy.over_admitted_max == 0
            else f"{accuracy.over_admitted_max} over",
            f"checked after each of {accuracy.evaluations} evaluations",
        ),
        (
            "measured admission rate",
            f"{accuracy.measured_rate_per_minute or 0:.1f}/min",
            "(last minute, as published on the status document)",
        ),
    ]
    if accuracy.status_polls is not None:
        rows.append(
            (
                "status polls, room moving",
                f"{accuracy.status_polls.requests_per_second:,.0f} req/s",
                "(during the accuracy run)",
            )
        )
    rows += [
        (
            f"Redis bytes per waiting fan ({memory.fans:,})",
            f"{memory.numbered_bytes_per_fan:.1f}",
            f"numbered; {memory.prequeue_bytes_per_fan:.1f} in the pre-queue; target <= 150",
        ),
        (
            "INFO used_memory delta per fan",
            f"{memory.used_memory_delta_per_fan:.1f}",
            "(shared server: other clients add noise)",
        ),
        (
            f"pre-queue draw of {memory.fans:,}",
            f"{memory.draw_seconds * 1000:.0f} ms",
            "(one script; Redis is busy meanwhile)",
        ),
    ]
    _print_table(rows)
    return 0 if accuracy.over_admitted_max == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
