#!/usr/bin/env python
"""onsale's benchmarks in one command: the on-sale path against this
machine's own limits, side by side, with ratios.

    .venv/bin/python bench/run.py            # full: about 20 minutes
    .venv/bin/python bench/run.py --quick    # about 4 minutes
    .venv/bin/python bench/run.py --quick --out var/bench-now --profile

It installs what it lacks from Debian (wrk, nginx, envsubst, redis-tools),
then measures:

 1. the machine's limits: nginx serving a static file (wrk), Redis INCR and
    EVALSHA of a one-line script (redis-benchmark);
 2. an empty Django view (`/bench/empty`) on gunicorn;
 3. joins (`POST .../queue`, a different signed-in fan each time) on the same
    gunicorn, and their ratio to (2);
 4. status polls through nginx's one-second micro-cache, and their ratio to
    nginx's static file;
 5. admission accuracy: admitted / (burst + rate x elapsed) over a run while
    the status document is polled (bench/scenarios/waitingroom.py);
 6. holds/s through the Redis + Lua path against the `SELECT ... FOR UPDATE`
    baseline (bench/scenarios/holds.py);
 7. tickets per minute, end to end through HTTP (bench/scenarios/checkout.py);
 8. Redis bytes per waiting fan at 100,000 fans (scenarios/waitingroom.py);
 9. p50/p99 latency of join, status, hold and checkout at a constant arrival
    rate of half the maximum measured above (bench/harness/constant_rate.py: latency
    from each request's due time, so stalls are not hidden);
10. sync vs gthread vs uvicorn (ASGI) gunicorn workers on the empty view,
    join and status;
and, with --profile (on in the full run), a py-spy profile of one gunicorn
worker during joins.

The stack (bench/harness/stack.py) is gunicorn on 127.0.0.1 with nginx in front and a
Celery worker, on a MySQL database and Redis key prefix of its own; (6) and (7)
start their own. Everything is stopped and removed at the end, also on
failure and Ctrl-C. Results: a table on stdout, `<out>/bench.json` and
`<out>/bench.png`. The load generators' CPU is reported next to every
figure: a generator near 100 % of a core is the bottleneck, not the server.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import constant_rate  # noqa: E402
from bench.harness.constant_rate import Request  # noqa: E402
from bench.harness.stack import Stack, exit_on_sigterm  # noqa: E402
from bench.scenarios import waitingroom as waitingroom_bench  # noqa: E402

PROFILES: dict[str, dict[str, Any]] = {
    "quick": {
        # Three short rounds rather than one long one: a ratio is the median
        # of its rounds, and one round can land on a burst of other work.
        "wrk_seconds": 3.0,
        "rounds": 3,
        "accuracy_seconds": 10.0,
        "fans": 12_000,
        "memory_fans": 100_000,
        "holds_attempts": 3_000,
        "checkout_seats": 1_500,
        "checkout_worker": False,
        "latency_seconds": 8.0,
        "compare_seconds": 3.0,
        "redis_requests": 100_000,
        "profile": False,
    },
    "full": {
        "wrk_seconds": 10.0,
        "rounds": 3,
        "accuracy_seconds": 60.0,
        "fans": 40_000,
        "memory_fans": 100_000,
        "holds_attempts": 10_000,
        "checkout_seats": 5_000,
        "checkout_worker": True,
        "latency_seconds": 30.0,
        "compare_seconds": 8.0,
        "redis_requests": 400_000,
        "profile": True,
    },
}
# sync: one request per process, so as many processes as is usual for it
# (2 x cores + 1); gthread: the project's default; uvicorn: one event loop per
# process, Django's sync views in its thread pool.
SERVERS = (("sync", 5, 1), ("gthread", 2, 8), ("uvicorn", 2, 1))
PER_ORDER = 4  # seats per order, as scenarios/checkout.py
# A constant-rate run whose generator sent 1 % of its requests later than
# this after their due time measured the generator too (latency_figures).
GENERATOR_LAG_LIMIT_MS = 20.0


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    note: str = ""
    target: str = ""
    met: bool | None = None
    generator_cpu: float | None = None  # load generator CPU, share of one core


@dataclass
class Report:
    machine: dict[str, Any]
    command: str
    mode: str
    figures: list[Figure] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def get(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


# --- the machine and its tools --------------------------------------------------


def ensure_tools() -> None:
    """wrk, nginx, envsubst, redis-benchmark from Debian if missing (the
    apt_install of bin/_setup.sh, as bin/test does)."""
    wanted = {
        "wrk": "wrk",
        "nginx": "nginx",
        "envsubst": "gettext-base",
        "redis-benchmark": "redis-tools",
    }
    missing = [
        package
        for tool, package in wanted.items()
        if not (shutil.which(tool) or Path("/usr/sbin", tool).exists())
    ]
    if not missing:
        return
    if not shutil.which("dpkg-query"):
        raise SystemExit(f"install these first: {' '.join(missing)}")
    subprocess.run(
        [
            "bash",
            "-c",
            f'source "{ROOT}/bin/_setup.sh" && RUNLEVEL=1 apt_install {" ".join(missing)}',
        ],
        check=True,
    )


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    busy = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()[:8]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "busiest_processes_at_start": [line.strip() for line in busy],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# --- load generators -------------------------------------------------------------


def wrk(url: str, seconds: float, **options: Any) -> tuple[Any, float]:
    """scenarios/waitingroom.py's wrk run, plus wrk's own CPU as a share of one core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = waitingroom_bench._wrk(url, seconds=seconds, **options)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu / elapsed


def redis_benchmark(
    stack: Stack, requests: int, *command: str
) -> tuple[float, float, float]:
    """ops/s, p99 ms and redis-benchmark's CPU share for one command."""
    from urllib.parse import urlparse

    url = urlparse(stack.redis_url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    output = subprocess.run(
        [
            shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark",
            "-h",
            url.hostname or "127.0.0.1",
            "-p",
            str(url.port or 6379),
            "-c",
            "50",
            "-n",
            str(requests),
            "-q",
            "--csv",
            *command,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = [
        line for line in output.splitlines() if line and not line.startswith('"test"')
    ]
    fields = [value.strip('"') for value in row[-1].split('","')]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(fields[1]), float(fields[6]), cpu / elapsed


def subprocess_json(command: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """Run one of bench/scenarios/*.py with --json; its stdout goes through."""
    print("$", " ".join(str(part) for part in command[1:]), flush=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_KEY_PREFIX"}
    }
    process = subprocess.Popen([*command, "--json", str(out)], cwd=ROOT, env=env)
    try:
        code = process.wait(timeout=timeout)
    except BaseException as stop:
        # The benchmark cleans up after itself (its database, Redis keys and
        # servers) on SIGINT: Ctrl-C reached it too (same process group), so
        # only wait; anything else (SIGTERM to us, the timeout) is passed on
        # as one SIGINT. Killing it outright would leave its state behind.
        if not isinstance(stop, KeyboardInterrupt) and process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    if not out.exists():
        raise RuntimeError(f"{command[1]} exited {code} without figures")
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["exit_code"] = code
    return figures


# --- the stack's data ---------------------------------------------------------------


def buyers_create(event_id: int, count: int, prefix: str) -> list[tuple[str, str]]:
    """Admitted fans with a bearer token and an access token each."""
    from knox.models import AuthToken

    from onsale.usermgmt.models import User
    from onsale.usermgmt.services import users_bulk_create
    from onsale.waitingroom.services import admission_session_start

    users_bulk_create(count=count, prefix=prefix, password="bench-password-123")
    buyers = []
    for user in User.objects.filter(email__startswith=prefix).order_by("pk"):
        _, bearer = AuthToken.objects.create(user=user)
        grant = admission_session_start(event_id=event_id, user_id=user.pk)
        buyers.append((bearer, grant.token))
    return buyers


def seated_event(seats: int) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from onsale.seatselection import selectors, services
    from onsale.seatselection.models import Event
    from onsale.usermgmt.models import Organization

    organization, _ = Organization.objects.get_or_create(name="Bench organization")
    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        name="Bench seated",
        venue_name="Arena",
        onsale_at=now + timedelta(days=1),
        starts_at=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
    )
    services.seatmap_replace(
        event=event,
        data={
            "categories": [{"code": "A", "name": "Arena", "price": "50.00"}],
            "generate": [
                {
                    "section": "Arena",
                    "rows": max(1, math.ceil(seats / 50)),
                    "seats_per_row": 50,
                    "category": "A",
                }
            ],
        },
    )
    Event.objects.filter(pk=event.pk).update(onsale_at=now - timedelta(minutes=1))
    selectors.availability_snapshot(event_id=event.pk)
    return event.pk


def credentials_read(path: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in path.read_text().splitlines():
        session, csrf = line.split()
        pairs.append((session, csrf))
    return pairs


# --- measurements ------------------------------------------------------------------


def measure_limits(report: Report, stack: Stack, settings: dict[str, Any]) -> None:
    """(1) nginx static and Redis."""
    static = f"{stack.proxy_url}/static/onsale/site.css"
    result, cpu = wrk(
        static,
        settings["wrk_seconds"],
        threads=2,
        connections=64,
        server_pid=stack.proxy.pid if stack.proxy else None,
    )
    report.raw["nginx_static"] = asdict(result)
    report.add(
        Figure(
            "nginx_static",
            "nginx static file",
            result.requests_per_second,
            "req/s",
            f"p50 {result.p50} p99 {result.p99}",
            generator_cpu=cpu,
        )
    )
    import redis

    client: Any = redis.Redis.from_url(stack.redis_url)
    sha = client.script_load("return redis.call('INCR', KEYS[1])")
    for key, label, command in (
        ("redis_incr", "Redis INCR", ["INCR", f"{stack.prefix}bench:incr"]),
        (
            "redis_evalsha",
            "Redis EVALSHA (one INCR)",
            ["EVALSHA", sha, "1", f"{stack.prefix}bench:evalsha"],
        ),
    ):
        ops, p99, cpu = redis_benchmark(stack, settings["redis_requests"], *command)
        report.add(
            Figure(
                key,
                label,
                ops,
                "ops/s",
                f"p99 {p99:.2f} ms, 50 clients",
                generator_cpu=cpu,
            )
        )


def measure_rounds(
    report: Report,
    stack: Stack,
    settings: dict[str, Any],
    credentials: Path,
    join_event: int,
) -> int:
    """(2), (3), (4): interleaved rounds, medians. Returns fans used."""
    seconds = settings["wrk_seconds"]
    web = {
        "threads": 1,
        "connections": 32,
        "server_pid": stack.web.pid if stack.web else None,
    }
    runs: dict[str, list[tuple[Any, float]]] = {
        "empty": [],
        "join": [],
        "status": [],
        "static": [],
    }
    first_fan = 0
    status_url = f"{stack.proxy_url}/api/v1/events/{join_event}/queue/status"
    # Warm every worker, connection pool and the micro-cache.
    wrk(f"{stack.origin}/bench/empty", 2, **web)
    for number in range(1, settings["rounds"] + 1):
        runs["static"].append(
            wrk(
                f"{stack.proxy_url}/static/onsale/site.css",
                seconds,
                threads=2,
                connections=64,
            )
        )
        runs["empty"].append(wrk(f"{stack.origin}/bench/empty", seconds, **web))
        runs["join"].append(
            wrk(
                stack.origin,
                seconds,
                script=waitingroom_bench.JOIN_SCRIPT,
                script_args=[
                    str(credentials),
                    f"/api/v1/events/{join_event}/queue",
                    "1",
                    str(first_fan),
                ],
                **web,
            )
        )
        first_fan += runs["join"][-1][0].requests + 32
        runs["status"].append(
            wrk(
                status_url,
                seconds,
                threads=2,
                connections=64,
                server_pid=stack.proxy.pid if stack.proxy else None,
            )
        )
        print(
            f"round {number}: "
            + ", ".join(
                f"{name} {values[-1][0].requests_per_second:,.0f}"
                for name, values in runs.items()
            )
            + " req/s",
            flush=True,
        )

    def median(name: str) -> tuple[Any, float]:
        ordered = sorted(runs[name], key=lambda run: run[0].requests_per_second)
        return ordered[len(ordered) // 2]

    join_ratios = sorted(
        j.requests_per_second / e.requests_per_second
        for (j, _), (e, _) in zip(runs["join"], runs["empty"], strict=True)
    )
    status_ratios = sorted(
        s.requests_per_second / n.requests_per_second
        for (s, _), (n, _) in zip(runs["status"], runs["static"], strict=True)
    )
    empty, empty_cpu = median("empty")
    join, join_cpu = median("join")
    status, status_cpu = median("status")
    report.raw["rounds"] = {
        name: [asdict(result) | {"generator_cpu": cpu} for result, cpu in values]
        for name, values in runs.items()
    }
    report.add(
        Figure(
            "empty",
            "empty Django view (gunicorn)",
            empty.requests_per_second,
            "req/s",
            f"p50 {empty.p50} p99 {empty.p99}, {empty.server_cpu_ms:.2f} ms server CPU/req",
            generator_cpu=empty_cpu,
        )
    )
    report.add(
        Figure(
            "join",
            "join (POST .../queue)",
            join.requests_per_second,
            "req/s",
            f"p50 {join.p50} p99 {join.p99}, {join.server_cpu_ms:.2f} ms server CPU/req, "
            f"{sum(r.non_2xx for r, _ in runs['join'])} non-2xx",
            generator_cpu=join_cpu,
        )
    )
    ratio = join_ratios[len(join_ratios) // 2]
    report.add(
        Figure(
            "join_ratio",
            "join / empty view",
            ratio,
            "x",
            "rounds " + ", ".join(f"{r:.2f}" for r in join_ratios),
            target=">= 0.60",
            met=ratio >= 0.6,
        )
    )
    cpu_ratio = (empty.server_cpu_ms or 0) / (join.server_cpu_ms or 1)
    report.add(
        Figure(
            "join_ratio_cpu",
            "join / empty by server CPU per request",
            cpu_ratio,
            "x",
            "what the rate ratio tends to with the cores to itself",
        )
    )
    report.add(
        Figure(
            "status_nginx",
            "status polls via nginx micro-cache",
            status.requests_per_second,
            "req/s",
            f"p50 {status.p50} p99 {status.p99}",
            generator_cpu=status_cpu,
        )
    )
    status_ratio = status_ratios[len(status_ratios) // 2]
    report.add(
        Figure(
            "status_ratio",
            "status via cache / nginx static",
            status_ratio,
            "x",
            "rounds " + ", ".join(f"{r:.2f}" for r in status_ratios),
            target=">= 0.50",
            met=status_ratio >= 0.5,
        )
    )
    return first_fan


def measure_accuracy(
    report: Report, stack: Stack, settings: dict[str, Any], staff: Any
) -> None:
    """(5) via scenarios/waitingroom.py's admission_accuracy, polled through nginx."""
    rate, burst = 600, 20
    event = waitingroom_bench._room(
        staff=staff,
        state="paused",
        rate_per_minute=rate,
        burst=burst,
        max_active=1_000_000,
    )
    accuracy = waitingroom_bench.admission_accuracy(
        event_id=event,
        staff=staff,
        rate=rate,
        burst=burst,
        seconds=settings["accuracy_seconds"],
        status_url=f"{stack.proxy_url}/api/v1/events/{event}/queue/status",
        wrk_threads=1,
        wrk_connections=16,
    )
    report.raw["accuracy"] = asdict(accuracy)
    value = accuracy.admitted / accuracy.theoretical
    report.add(
        Figure(
            "accuracy",
            f"admission accuracy ({accuracy.seconds:.0f} s)",
            value,
            "x",
            f"{accuracy.admitted} / {accuracy.theoretical:.1f} (burst {burst} + "
            f"{rate}/min); over-admitted by at most {accuracy.over_admitted_max}",
            target="1.00 +- 0.01",
            met=abs(value - 1) <= 0.01 and accuracy.over_admitted_max == 0,
        )
    )


def measure_memory(report: Report, settings: dict[str, Any]) -> None:
    """(8) via scenarios/waitingroom.py's memory_per_fan."""
    memory = waitingroom_bench.memory_per_fan(
        fans=settings["memory_fans"], event_id=10_000_000 + os.getpid()
    )
    report.raw["memory"] = asdict(memory)
    report.add(
        Figure(
            "redis_bytes_per_fan",
            f"Redis bytes per waiting fan ({memory.fans:,})",
            memory.numbered_bytes_per_fan,
            "B",
            f"{memory.prequeue_bytes_per_fan:.1f} in the pre-queue; draw of all "
            f"{memory.draw_seconds * 1000:.0f} ms",
            target="<= 150",
            met=memory.numbered_bytes_per_fan <= 150,
        )
    )


def measure_holds(report: Report, out: Path, settings: dict[str, Any]) -> None:
    """(6) bench/scenarios/holds.py --json."""
    figures = subprocess_json(
        [
            sys.executable,
            str(ROOT / "bench" / "scenarios" / "holds.py"),
            "--attempts",
            str(settings["holds_attempts"]),
        ],
        out / "holds.json",
        timeout=900,
    )
    report.raw["holds"] = figures
    hot = next(s for s in figures["scenarios"] if s["hot"])
    flat = next(s for s in figures["scenarios"] if not s["hot"])
    report.add(
        Figure(
            "holds_lua",
            "holds/s, Redis + Lua (on-sale demand)",
            hot["lua_holds_per_second"],
            "holds/s",
            f"p99 {hot['lua_p99_ms']:.1f} ms; double holds {hot['lua_double_holds']}",
        )
    )
    report.add(
        Figure(
            "holds_mysql",
            "holds/s, SELECT ... FOR UPDATE",
            hot["mysql_holds_per_second"],
            "holds/s",
            f"p99 {hot['mysql_p99_ms']:.1f} ms; double holds {hot['mysql_double_holds']}",
        )
    )
    report.add(
        Figure(
            "holds_ratio",
            "holds Lua / FOR UPDATE (on-sale demand)",
            hot["ratio"],
            "x",
            f"uniform demand {flat['ratio']:.1f}x; failures {figures['failures']}"
            + (
                f"; store CPU per attempt Redis {hot['redis_cpu_us_per_attempt']:.0f} us, "
                f"MariaDB {hot['mysql_cpu_us_per_attempt']:.0f} us = "
                f"{hot['mysql_cpu_us_per_attempt'] / hot['redis_cpu_us_per_attempt']:.1f}x"
                if hot.get("redis_cpu_us_per_attempt")
                else ""
            ),
            target=">= 10",
            met=hot["ratio"] >= 10 and figures["failures"] == 0,
        )
    )


def measure_checkout(report: Report, out: Path, settings: dict[str, Any]) -> float:
    """(7) bench/scenarios/checkout.py --json; returns orders/s."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "scenarios" / "checkout.py"),
        "--seats",
        str(settings["checkout_seats"]),
        "--per-order",
        str(PER_ORDER),
    ]
    if not settings["checkout_worker"]:
        command.append("--no-worker")
    figures = subprocess_json(command, out / "checkout.json", timeout=1200)
    report.raw["checkout"] = figures
    value = figures["tickets_per_minute"]
    report.add(
        Figure(
            "checkout",
            "checkout tickets/min (HTTP, end to end)",
            value,
            "tickets/min",
            f"{figures['orders_per_minute']:,.0f} orders/min; hold p99 "
            f"{figures['hold_p99_ms']:.0f} ms, checkout p99 {figures['checkout_p99_ms']:.0f} ms; "
            f"{figures['web_cpu_ms_per_order']:.1f} ms server CPU/order; failures "
            f"{figures['failures']}",
            target=">= 10,000",
            met=value >= 10_000 and figures["failures"] == 0,
        )
    )
    return float(figures["orders_per_minute"]) / 60


def generator_behind(result: constant_rate.Result) -> bool:
    return (
        result.dispatch_lag_p99_ms > GENERATOR_LAG_LIMIT_MS
        or result.achieved_rate < 0.95 * result.rate
    )


def latency_figures(
    report: Report,
    key: str,
    label: str,
    result: constant_rate.Result,
    name: str,
    target: str = "",
) -> None:
    p50, p99 = result.percentile(name, 0.5), result.percentile(name, 0.99)
    # The generator itself fell behind its schedule (its own CPU, or the
    # machine's): the latencies then include its lateness, and say nothing
    # for or against the server. No verdict.
    behind = generator_behind(result)
    met = None
    if target and not behind:
        met = p99 < 50
    report.add(
        Figure(
            key,
            label,
            p99,
            "ms p99",
            ("NO VERDICT, the generator fell behind: " if behind else "")
            + f"p50 {p50:.1f} ms at {result.rate:,.0f}/s asked, {result.achieved_rate:,.0f}/s "
            f"sent; statuses {dict(result.statuses)}"
            + (f"; errors {dict(result.errors)}" if result.errors else "")
            + f"; generator late by {result.dispatch_lag_p99_ms:.0f} ms p99, "
            f"{result.dispatch_lag_ms:.0f} ms at worst",
            target=target,
            met=met,
            generator_cpu=result.generator_cpu_share,
        )
    )


def measure_latency(
    report: Report,
    stack: Stack,
    settings: dict[str, Any],
    credentials: Path,
    orders_per_second: float,
) -> None:
    """(9) constant arrival rate at half the measured maximum."""
    seconds = settings["latency_seconds"]
    fans = credentials_read(credentials)
    join_max = report.get("join")
    status_max = report.get("status_nginx")
    assert join_max is not None and status_max is not None

    # Joins: a fresh event, so every request is a first join.
    from onsale.usermgmt.models import User

    staff = User.objects.get(email="bench-staff@example.test")
    join_event = waitingroom_bench._room(
        staff=staff, state="open", rate_per_minute=600, burst=50
    )
    join_rate = max(1.0, join_max.value / 2)

    def join_flow(index: int) -> constant_rate.Flow:
        session, csrf = fans[index % len(fans)]
        yield (
            "join",
            Request(
                "POST",
                f"/api/v1/events/{join_event}/queue",
                {
                    "Cookie": f"sessionid={session}; csrftoken={csrf}",
                    "X-CSRFToken": csrf,
                    "Content-Type": "application/json",
                },
            ),
        )

    result = constant_rate.run(
        host="127.0.0.1",
        port=stack.web_port,
        rate=join_rate,
        seconds=seconds,
        flow=join_flow,
        processes=1 if join_rate < 1500 else 2,
    )
    report.raw["latency_join"] = _latency_raw(result)
    latency_figures(
        report, "latency_join", "join latency at 50% max", result, "join", "p99 < 50 ms"
    )

    status_rate = max(1.0, status_max.value / 2)
    status_path = f"/api/v1/events/{join_event}/queue/status"

    def status_flow(index: int) -> constant_rate.Flow:
        yield "status", Request("GET", status_path)

    result = constant_rate.run(
        host="127.0.0.1",
        port=stack.proxy_port,
        rate=status_rate,
        seconds=seconds,
        flow=status_flow,
        processes=2 if status_rate > 1500 else 1,
    )
    report.raw["latency_status"] = _latency_raw(result)
    latency_figures(
        report,
        "latency_status",
        "status latency at 50% max (nginx)",
        result,
        "status",
        "p99 < 50 ms",
    )
    if generator_behind(result):
        # Half of nginx's cached rate is more than the Python generator keeps
        # up with here: a figure at a pace it does keep, for what it is worth.
        slower = constant_rate.run(
            host="127.0.0.1",
            port=stack.proxy_port,
            rate=status_rate / 4,
            seconds=seconds,
            flow=status_flow,
            processes=1,
        )
        report.raw["latency_status_slower"] = _latency_raw(slower)
        latency_figures(
            report,
            "latency_status_slower",
            f"status latency at {status_rate / 4:,.0f}/s (12.5% max)",
            slower,
            "status",
        )

    # Hold then checkout: half the order rate scenarios/checkout.py reached.
    purchase_rate = max(1.0, orders_per_second / 2)
    purchases = int(purchase_rate * seconds) + 1
    event = seated_event(purchases * PER_ORDER + 100)
    buyers = buyers_create(event, purchases, f"bench-buyer-{os.getpid()}-")
    from onsale.checkout.payments.fake import SUCCESS_CARD

    def purchase_flow(index: int) -> constant_rate.Flow:
        bearer, access = buyers[index % len(buyers)]
        headers = {
            "Authorization": f"Bearer {bearer}",
            "X-Access-Token": access,
            "Content-Type": "application/json",
        }
        status, body = yield (
            "hold",
            Request(
                "POST",
                f"/api/v1/events/{event}/holds",
                headers,
                json.dumps({"category": "A", "quantity": PER_ORDER}).encode(),
            ),
        )
        if status != 201:
            return
        hold = json.loads(body)
        yield (
            "checkout",
            Request(
                "POST",
                "/api/v1/checkout",
                {**headers, "Idempotency-Key": uuid.uuid4().hex},
                json.dumps(
                    {
                        "hold_id": hold["hold_id"],
                        "event_id": event,
                        "payment": {
                            "card_number": SUCCESS_CARD,
                            "exp_month": 12,
                            "exp_year": 2030,
                            "cvc": "123",
                        },
                        "buyer": {"name": "Bench", "email": "bench@example.test"},
                    }
                ).encode(),
            ),
        )

    from django.db import connections

    connections.close_all()  # the forked generator must not share them
    result = constant_rate.run(
        host="127.0.0.1",
        port=stack.web_port,
        rate=purchase_rate,
        seconds=seconds,
        flow=purchase_flow,
    )
    report.raw["latency_purchase"] = _latency_raw(result)
    latency_figures(report, "latency_hold", "hold latency at 50% max", result, "hold")
    latency_figures(
        report, "latency_checkout", "checkout latency at 50% max", result, "checkout"
    )


def _latency_raw(result: constant_rate.Result) -> dict[str, Any]:
    return {
        "rate": result.rate,
        "achieved_rate": result.achieved_rate,
        "sent": result.sent,
        "generator_cpu_share": result.generator_cpu_share,
        "processes": result.processes,
        "dispatch_lag_ms": result.dispatch_lag_ms,
        "dispatch_lag_p99_ms": result.dispatch_lag_p99_ms,
        "statuses": dict(result.statuses),
        "errors": dict(result.errors),
        "percentiles_ms": {
            name: {
                str(share): result.percentile(name, share)
                for share in (0.5, 0.9, 0.99, 0.999)
            }
            for name in result.latencies_ms
        },
    }


def measure_servers(
    report: Report,
    stack: Stack,
    settings: dict[str, Any],
    credentials: Path,
    staff: Any,
) -> None:
    """(10) sync vs gthread vs uvicorn, straight to gunicorn."""
    seconds = settings["compare_seconds"]
    comparison: dict[str, dict[str, Any]] = {}
    for worker_class, workers, threads in SERVERS:
        stack.start_web(worker_class, workers, threads)
        options = {
            "threads": 1,
            "connections": 32,
            "server_pid": stack.web.pid if stack.web else None,
        }
        # A fresh event per server: every join is a first join.
        event = waitingroom_bench._room(
            staff=staff, state="open", rate_per_minute=600, burst=50
        )
        wrk(f"{stack.origin}/bench/empty", 1, **options)
        rows = {}
        for name, url, extra in (
            ("empty", f"{stack.origin}/bench/empty", {}),
            (
                "join",
                stack.origin,
                {
                    "script": waitingroom_bench.JOIN_SCRIPT,
                    "script_args": [
                        str(credentials),
                        f"/api/v1/events/{event}/queue",
                        "1",
                        "0",
                    ],
                },
            ),
            ("status", f"{stack.origin}/api/v1/events/{event}/queue/status", {}),
        ):
            result, cpu = wrk(url, seconds, **options, **extra)
            rows[name] = {
                "requests_per_second": result.requests_per_second,
                "p50": result.p50,
                "p99": result.p99,
                "server_cpu_ms": result.server_cpu_ms,
                "non_2xx": result.non_2xx,
                "errors": result.errors,
                "generator_cpu": cpu,
            }
        label = f"{worker_class} {workers}x{threads}"
        comparison[label] = rows
        print(
            f"{label}: "
            + ", ".join(
                f"{name} {row['requests_per_second']:,.0f} req/s"
                for name, row in rows.items()
            ),
            flush=True,
        )
    report.raw["servers"] = comparison
    for label, rows in comparison.items():
        for name, row in rows.items():
            report.add(
                Figure(
                    f"server_{label.split()[0]}_{name}",
                    f"{label}: {name}",
                    row["requests_per_second"],
                    "req/s",
                    f"p99 {row['p99']}, {row['server_cpu_ms'] or 0:.2f} ms server CPU/req"
                    + (f", {row['non_2xx']} non-2xx" if row["non_2xx"] else ""),
                    generator_cpu=row["generator_cpu"],
                )
            )


def profile_join(
    report: Report, stack: Stack, out: Path, credentials: Path, staff: Any
) -> None:
    """py-spy on one gunicorn worker while wrk joins; where the time goes."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists() or stack.web is None:
        print("py-spy not found: no profile", flush=True)
        return
    children = (
        Path(f"/proc/{stack.web.pid}/task/{stack.web.pid}/children").read_text().split()
    )
    if not children:
        return
    event = waitingroom_bench._room(
        staff=staff, state="open", rate_per_minute=600, burst=50
    )
    load = threading.Thread(
        target=wrk,
        args=(stack.origin, 20),
        kwargs={
            "threads": 1,
            "connections": 32,
            "script": waitingroom_bench.JOIN_SCRIPT,
            "script_args": [
                str(credentials),
                f"/api/v1/events/{event}/queue",
                "1",
                "0",
            ],
        },
    )
    load.start()
    time.sleep(1)
    # Two views of the same load: every sampled thread (wall time: where a
    # request waits), and only the thread holding the GIL (Python CPU). Every
    # worker is sampled at once: which worker accepts wrk's keep-alive
    # connections is up to the kernel, so one of them may get them all.
    for name, extra in (("wall", []), ("gil", ["--gil"])):
        raw = out / f"join-profile-{name}.txt"
        parts = [out / f"join-profile-{name}-{pid}.txt" for pid in children]
        samplers = [
            subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    pid,
                    "--duration",
                    "8",
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(part),
                    "--nonblocking",
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for pid, part in zip(children, parts, strict=True)
        ]
        errors = [sampler.communicate()[1] for sampler in samplers]
        raw.write_text("".join(part.read_text() for part in parts if part.exists()))
        for part in parts:
            part.unlink(missing_ok=True)
        if raw.stat().st_size:
            report.raw[f"join_profile_{name}"] = profile_summary(raw)
        else:
            report.raw[f"join_profile_{name}_error"] = b"".join(errors)[-500:].decode(
                errors="replace"
            )
    load.join()


# Where a join's time goes: each sample is charged to the package of the
# innermost frame that belongs to one of these (py-spy leaves idle threads out,
# so these are shares of the time the worker's threads were running or
# waiting on a socket inside a request).
PROFILE_PACKAGES = (
    ("Redis (redis-py: send, wait, parse)", "redis/"),
    ("MySQL (MySQLdb, Django's db layer)", ("MySQLdb/", "django/db/")),
    ("gunicorn (HTTP read/write)", "gunicorn/"),
    ("DRF", "rest_framework/"),
    ("knox", "knox/"),
    ("onsale code", "onsale/"),
    ("Django (other)", "django/"),
)


def _package(frame: str) -> str | None:
    for name, markers in PROFILE_PACKAGES:
        if any(
            marker in frame
            for marker in ((markers,) if isinstance(markers, str) else markers)
        ):
            return name
    return None


def profile_summary(raw: Path) -> dict[str, Any]:
    total = 0
    packages: dict[str, int] = {}
    leaves: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        owner = next(
            (name for name in map(_package, reversed(frames)) if name), "other"
        )
        packages[owner] = packages.get(owner, 0) + count
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
    top = sorted(leaves.items(), key=lambda item: -item[1])[:15]
    return {
        "samples": total,
        "share_by_package": {
            name: count / total
            for name, count in sorted(packages.items(), key=lambda item: -item[1])
        }
        if total
        else {},
        "top_leaf_frames": [(leaf, count / total) for leaf, count in top]
        if total
        else [],
    }


# --- output ----------------------------------------------------------------------


def print_table(report: Report) -> None:
    rows = []
    for figure in report.figures:
        value = (
            f"{figure.value:,.2f}"
            if figure.unit in ("x", "ms p99", "B")
            else f"{figure.value:,.0f}"
        )
        verdict = "" if figure.met is None else ("met" if figure.met else "MISSED")
        generator = (
            "" if figure.generator_cpu is None else f"{figure.generator_cpu * 100:.0f}%"
        )
        rows.append(
            (
                figure.label,
                f"{value} {figure.unit}",
                figure.target,
                verdict,
                generator,
                figure.note,
            )
        )
    headers = ("measurement", "value", "target", "", "gen CPU", "notes")
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(5)]
    print()
    print(
        "  ".join(str(h).ljust(w) for h, w in zip(headers[:5], widths, strict=True))
        + "  notes"
    )
    for row in rows:
        print(
            "  ".join(str(c).ljust(w) for c, w in zip(row[:5], widths, strict=True))
            + "  "
            + row[5]
        )
    print()


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (rates, ratios, latency, servers) = plt.subplots(1, 4, figsize=(24, 6))
    keys = [
        "nginx_static",
        "status_nginx",
        "empty",
        "join",
        "redis_incr",
        "redis_evalsha",
    ]
    present = [report.get(key) for key in keys]
    shown = [f for f in present if f is not None]
    rates.barh([f.label for f in shown], [f.value for f in shown], color="#4477aa")
    rates.set_xscale("log")
    rates.set_xlabel("requests (or Redis ops) per second, log scale")
    rates.set_title("Throughput against this machine's limits")
    for index, f in enumerate(shown):
        rates.text(f.value, index, f" {f.value:,.0f}", va="center", fontsize=8)

    checks = [
        ("join_ratio", 0.6),
        ("status_ratio", 0.5),
        ("accuracy", 1.0),
        ("holds_ratio", 10.0),
        ("checkout", 10_000.0),
    ]
    labels, shares, colors = [], [], []
    for key, target in checks:
        checked = report.get(key)
        if checked is None:
            continue
        labels.append(f"{checked.label}\n({checked.value:,.2f} vs {checked.target})")
        shares.append(checked.value / target)
        colors.append("#228833" if checked.met else "#cc3311")
    ratios.barh(labels, shares, color=colors)
    ratios.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ratios.set_xlabel(
        "measured / target (>= 1 meets it; accuracy must be 1.00 +- 0.01)"
    )
    ratios.set_title("Targets")
    ratios.tick_params(axis="y", labelsize=7)

    steps = [
        ("join", "latency_join"),
        ("status", "latency_status"),
        ("hold", "latency_purchase"),
        ("checkout", "latency_purchase"),
    ]
    measured = [
        (name, report.raw[key]["percentiles_ms"][name])
        for name, key in steps
        if key in report.raw and name in report.raw[key]["percentiles_ms"]
    ]
    if measured:
        positions = range(len(measured))
        latency.bar(
            [p - 0.2 for p in positions],
            [values["0.5"] for _, values in measured],
            0.4,
            label="p50",
        )
        latency.bar(
            [p + 0.2 for p in positions],
            [values["0.99"] for _, values in measured],
            0.4,
            label="p99",
        )
        latency.axhline(50, color="black", linestyle="--", linewidth=1)
        latency.set_xticks(list(positions))
        latency.set_xticklabels([name for name, _ in measured])
        latency.set_yscale("log")
        latency.set_ylabel("ms from the scheduled send time (log)")
        latency.set_title("Latency at 50% of the maximum rate (constant rate)")
        latency.legend()

    comparison = report.raw.get("servers", {})
    if comparison:
        names = ["empty", "join", "status"]
        width = 0.8 / len(comparison)
        for offset, (label, rows) in enumerate(comparison.items()):
            servers.bar(
                [i + offset * width for i in range(len(names))],
                [rows[name]["requests_per_second"] for name in names],
                width,
                label=label,
            )
        servers.set_xticks(
            [i + width * (len(comparison) - 1) / 2 for i in range(len(names))]
        )
        servers.set_xticklabels(names)
        servers.set_ylabel("req/s (straight to gunicorn)")
        servers.set_title("gunicorn worker classes")
        servers.legend()
    figure.suptitle(
        f"onsale bench ({report.mode}), {report.machine['cpus']} x "
        f"{report.machine['cpu_model']}, {report.machine['date']}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def recommendation(report: Report) -> str:
    comparison = report.raw.get("servers", {})
    if not comparison:
        return ""
    scores = {}
    for label, rows in comparison.items():
        scores[label] = statistics.geometric_mean(
            [
                max(rows[name]["requests_per_second"], 1e-9)
                for name in ("empty", "join", "status")
            ]
        )
    best = max(scores, key=lambda label: scores[label])
    text = ", ".join(f"{label} {score:,.0f}" for label, score in scores.items())
    default = next((label for label in scores if label.startswith("gthread")), best)
    if best == default:
        verdict = f"keep {default} (the default): the fastest here"
    elif scores[best] < 1.10 * scores[default]:
        # Within the noise of a shared machine: fewer processes (memory) and
        # threads that overlap the Redis/MySQL waits of a join decide it.
        verdict = (
            f"keep {default} (the default): {best} is within 10 %, which is "
            "noise on a shared machine"
        )
    else:
        verdict = f"{best} is more than 10 % faster here: consider it"
    return (
        f"worker classes by geometric mean of empty/join/status req/s: {text}; "
        f"{verdict}"
    )


# --- main ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 4 minutes")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--profile", action="store_true", help="py-spy profile of join")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated steps to leave out: holds,checkout,latency,servers,accuracy,memory",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    settings = dict(PROFILES[mode])
    settings["profile"] = settings["profile"] or args.profile
    skip = set(filter(None, args.skip.split(",")))
    out = args.out or ROOT / "var" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    exit_on_sigterm()
    ensure_tools()
    report = Report(
        machine=machine(),
        command=" ".join(
            [
                ".venv/bin/python bench/run.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        mode=mode,
    )
    print(
        f"onsale bench ({mode}): {report.machine['cpus']} x {report.machine['cpu_model']}, "
        f"load {report.machine['load_average_at_start'][0]:.1f}; results in {out}",
        flush=True,
    )
    started = time.monotonic()
    # (6) and (7) run their own stacks, before ours starts.
    orders_per_second = 0.0
    if "holds" not in skip:
        measure_holds(report, out, settings)
    if "checkout" not in skip:
        orders_per_second = measure_checkout(report, out, settings)

    stack_started = time.monotonic()
    with Stack(workers=2, threads=8) as stack:
        os.environ.update(stack.env)
        import django

        django.setup()
        from onsale.usermgmt.models import User

        stack.manage(
            "create_users", "--count", str(settings["fans"]), "--prefix", "benchfan"
        )
        staff = User.objects.create_user(
            "bench-staff@example.test", secrets.token_urlsafe(16), role=User.Role.STAFF
        )
        credentials, _ = waitingroom_bench._signed_in_fans(stack.work, "benchfan")
        join_event = waitingroom_bench._room(
            staff=staff, state="open", rate_per_minute=600, burst=50
        )
        print(f"stack up in {time.monotonic() - stack_started:.0f} s", flush=True)
        measure_limits(report, stack, settings)
        measure_rounds(report, stack, settings, credentials, join_event)
        if "accuracy" not in skip:
            measure_accuracy(report, stack, settings, staff)
        if "memory" not in skip:
            measure_memory(report, settings)
        if "latency" not in skip:
            measure_latency(
                report, stack, settings, credentials, orders_per_second or 10
            )
        if settings["profile"]:
            profile_join(report, stack, out, credentials, staff)
        if "servers" not in skip:
            measure_servers(report, stack, settings, credentials, staff)

    report.raw["seconds"] = time.monotonic() - started
    report.raw["load_average_at_end"] = os.getloadavg()
    advice = recommendation(report)
    report.raw["recommendation"] = advice
    print_table(report)
    if advice:
        print(advice)
    for name in ("wall", "gil"):
        if f"join_profile_{name}" in report.raw:
            profile = report.raw[f"join_profile_{name}"]
            if profile["samples"] < 100:
                print(
                    f"join profile, {name}: only {profile['samples']} samples "
                    "(the workers were idle while py-spy ran): no verdict"
                )
                continue
            print(
                f"join profile, {name} (py-spy, every worker; share of "
                f"{profile['samples']:,} samples):",
                ", ".join(
                    f"{k} {v:.0%}" for k, v in profile["share_by_package"].items()
                ),
            )
    (out / "bench.json").write_text(
        json.dumps(
            {
                "machine": report.machine,
                "command": report.command,
                "mode": report.mode,
                "figures": [asdict(f) for f in report.figures],
                "raw": report.raw,
            },
            indent=1,
            default=str,
        )
    )
    chart(report, out / "bench.png")
    print(
        f"written {out / 'bench.json'} and {out / 'bench.png'} in {report.raw['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
