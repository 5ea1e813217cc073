"""The runner's measurements (1) to (8) and (10) of bench/run.py: each adds its
figures to the report. (9), latency at a constant rate, is in run.py with
the fans and buyers it creates."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.harness.report import Figure, Report
from bench.harness.stack import Stack
from bench.harness.tools import redis_benchmark, subprocess_json, wrk
from bench.scenarios import waitingroom as waitingroom_bench

ROOT = Path(__file__).resolve().parents[2]

# sync: one request per process, so as many processes as is usual for it
# (2 x cores + 1); gthread: the project's default; uvicorn: one event loop per
# process, Django's sync views in its thread pool.
SERVERS = (("sync", 5, 1), ("gthread", 2, 8), ("uvicorn", 2, 1))
PER_ORDER = 4  # seats per order, as scenarios/checkout.py


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
