"""Benchmark: seat holds through Redis + Lua against the classic MySQL design.

Prints, in one run, hold attempts per second with 64 concurrent clients on a
1,000-seat map (10,000 attempts of two seats each) through:

- onsale's path: `seatselection.services.hold_create` / `hold_release`, one
  Lua script per call against the real Redis (the layout check included);
- a baseline that guards each seat with MySQL `SELECT ... FOR UPDATE` in a
  transaction (rows locked in id order, a holds row inserted, the seats
  updated), against a real MariaDB table created here;

and the ratio, plus a double-hold check for each (must be zero).

Both sides get the same workloads, generated from one seed, in two
scenarios: "on-sale demand" (two adjacent seats, 80 % of fans after the two
best rows) and "uniform demand" (two random seats anywhere). A granted hold
is kept (30 %) or released at once (70 %), so the venue fills up while seats
keep changing hands. Both sides are measured at the service layer: direct
Python calls from 64 clients, spread as the web tier spreads requests: 8
forked processes of 8 threads each, as 8 gunicorn workers of 8 threads
(`--processes N` for 64/N threads in each of N processes; `--processes 1`
puts all 64 threads behind one interpreter lock), one database or Redis
connection per thread. A double hold is two grants of one seat whose windows (answer
received .. release sent) overlap; "consistent" compares the seats still
held in the store with the holds the clients kept.

What bounds the figures on one small machine: both sides spend most of each
call in Python (Django, redis-py, MySQLdb) on the same CPUs as Redis and
MariaDB, and the loopback network hides how long the classic design keeps
rows locked across its round trips. Read the ratio with that in mind.

So the run also reports what each side costs the one store that every web
pod shares: the CPU time the Redis server and the MariaDB server spent per
attempt (read from /proc for local servers), and from it how many holds one
core of that store can serve. The web tier scales out by adding pods; the
seat store of an event does not, so that is the ratio that sets the ceiling
of an on-sale.

Run (MariaDB at 127.0.0.1:3306 root, Redis at 127.0.0.1:6379, as for tests):

    .venv/bin/python bench/scenarios/holds.py [--attempts 10000] [--clients 64]
        [--seats 1000] [--processes 1]

It creates its own database (test_onsale_<pid>) and Redis key prefix and
removes both at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.config.settings_test")
os.environ.setdefault("DATABASE_URL", "mysql://root@127.0.0.1:3306/onsale")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

import django

django.setup()


from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from bench.harness.events import bench_event_create  # noqa: E402
from onsale.events.models import Event  # noqa: E402
from onsale.platform.redis import redis_client  # noqa: E402
from onsale.seatselection import exceptions, selectors, services  # noqa: E402
from onsale.seatselection import layout as seat_layout  # noqa: E402

SESSION_END = int(time.time()) + 3600
# What --json writes: the run's options and each scenario's figures.
SUMMARY: dict[str, Any] = {"scenarios": []}
SEATS_PER_HOLD = 2
KEEP_SHARE = 0.3
FANS = 5000


@dataclass(frozen=True)
class Attempt:
    user_id: int
    seats: tuple[int, ...]  # positions 0..seat_count-1
    keep: bool


ROW = 50  # seats per row of the benchmark venue
HOT_SHARE = 0.8  # share of requests that go for the best rows
HOT_ROWS = 2


def workload(*, attempts: int, seat_count: int, seed: int, hot: bool) -> list[Attempt]:
    """The attempts, the same for both sides. `hot=False`: two seats anywhere
    in the venue, uniformly. `hot=True`, what an on-sale looks like: two
    adjacent seats, and 80 % of fans go for the two best rows (100 seats)."""
    rng = random.Random(seed)
    plan: list[Attempt] = []
    for _ in range(attempts):
        if hot:
            rows = HOT_ROWS if rng.random() < HOT_SHARE else seat_count // ROW
            row = rng.randrange(rows)
            first = row * ROW + rng.randrange(ROW - SEATS_PER_HOLD + 1)
            seats = tuple(range(first, first + SEATS_PER_HOLD))
        else:
            seats = tuple(sorted(rng.sample(range(seat_count), SEATS_PER_HOLD)))
        plan.append(
            Attempt(
                user_id=1 + rng.randrange(FANS),
                seats=seats,
                keep=rng.random() < KEEP_SHARE,
            )
        )
    return plan


@dataclass
class Grant:
    """A granted hold as the client saw it: from the moment the answer came
    back to the moment its release was sent (None: kept). The server held the
    seats at least that long, so two grants of one seat whose windows overlap
    are a double hold (a check that needs no shared state, so it works across
    processes: CLOCK_MONOTONIC is one clock for the whole machine)."""

    seats: tuple[int, ...]
    granted_at: float
    released_at: float | None


@dataclass
class Result:
    name: str
    elapsed: float = 0.0
    granted: int = 0
    refused: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return self.granted + self.refused + self.errors

    @property
    def rate(self) -> float:
        return self.attempts / self.elapsed if self.elapsed else 0.0

    def merge(self, other: Result) -> None:
        self.granted += other.granted
        self.refused += other.refused
        self.errors += other.errors
        self.latencies_ms.extend(other.latencies_ms)
        self.grants.extend(other.grants)

    @property
    def kept_seats(self) -> int:
        return sum(len(g.seats) for g in self.grants if g.released_at is None)

    @property
    def double_holds(self) -> int:
        windows: dict[int, list[tuple[float, float]]] = {}
        for grant in self.grants:
            end = math.inf if grant.released_at is None else grant.released_at
            for seat in grant.seats:
                windows.setdefault(seat, []).append((grant.granted_at, end))
        doubles = 0
        for spans in windows.values():
            spans.sort()
            latest_end = -math.inf
            for begin, end in spans:
                if begin < latest_end:
                    doubles += 1
                latest_end = max(latest_end, end)
        return doubles


def _server_pids(names: tuple[str, ...], port: int) -> list[int]:
    """Pids of local server processes called one of `names` (the Redis on
    `port`, or MariaDB) as /proc shows them; empty when the server is
    elsewhere."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if comm in names and (comm != "redis-server" or f":{port}" in cmdline):
            pids.append(int(entry.name))
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (all their threads) so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class StoreCpu:
    """CPU the local Redis and MariaDB servers spend while a side runs."""

    def __init__(self) -> None:
        from urllib.parse import urlparse

        port = urlparse(settings.REDIS_URL).port or 6379
        self.pids = {
            "redis": _server_pids(("redis-server",), port),
            "mysql": _server_pids(("mariadbd", "mysqld"), 3306),
        }
        self.started: dict[str, float] = {}

    def start(self) -> None:
        self.started = {name: _cpu_seconds(pids) for name, pids in self.pids.items()}

    def spent(self) -> dict[str, float | None]:
        return {
            name: (_cpu_seconds(pids) - self.started[name]) if pids else None
            for name, pids in self.pids.items()
        }


HoldFn = Callable[[int, Attempt], Any]  # returns a token, or None if refused
ReleaseFn = Callable[[Attempt, Any], None]


def run_clients(
    name: str,
    plan: list[Attempt],
    numbers: list[int],
    threads: int,
    hold: HoldFn,
    release: ReleaseFn,
    start: Callable[[], None],
) -> Result:
    """Run the attempts `numbers` of `plan` from `threads` threads of this
    process, once `start()` returns; each thread uses its own connections."""
    result = Result(name=name)
    pending = iter(numbers)
    pick_lock = threading.Lock()
    counts_lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def client() -> None:
        mine = Result(name=name)
        barrier.wait()
        try:
            while True:
                with pick_lock:
                    number = next(pending, None)
                if number is None:
                    break
                attempt = plan[number]
                started = time.perf_counter()
                try:
                    token = hold(number, attempt)
                except Exception as exc:  # counted and printed, never hidden
                    mine.errors += 1
                    print(f"{name}: attempt {number} failed: {exc!r}", file=sys.stderr)
                    continue
                finally:
                    mine.latencies_ms.append((time.perf_counter() - started) * 1000)
                if token is None:
                    mine.refused += 1
                    continue
                mine.granted += 1
                grant = Grant(attempt.seats, time.monotonic(), None)
                mine.grants.append(grant)
                if not attempt.keep:
                    grant.released_at = time.monotonic()
                    release(attempt, token)
        finally:
            with counts_lock:
                result.merge(mine)
            connection.close()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    start()
    barrier.wait()
    for worker in workers:
        worker.join()
    return result


def run(
    name: str,
    plan: list[Attempt],
    clients: int,
    processes: int,
    hold: HoldFn,
    release: ReleaseFn,
) -> Result:
    """All attempts from `clients` concurrent clients: threads of this process
    (processes=1), or that many threads spread over forked processes."""
    if processes == 1:
        started = time.perf_counter()
        result = run_clients(
            name, plan, list(range(len(plan))), clients, hold, release, lambda: None
        )
        result.elapsed = time.perf_counter() - started
        return result
    context = multiprocessing.get_context("fork")
    go = context.Event()
    reports: Any = context.Queue()
    connections.close_all()  # children open their own

    def wait_for_go() -> None:
        go.wait()

    def child(slot: int) -> None:
        numbers = list(range(slot, len(plan), processes))
        reports.put(
            run_clients(
                name, plan, numbers, clients // processes, hold, release, wait_for_go
            )
        )

    children = [context.Process(target=child, args=(n,)) for n in range(processes)]
    for process in children:
        process.start()
    time.sleep(1.0)  # let every child start its threads
    started = time.perf_counter()
    go.set()
    result = Result(name=name)
    for _ in children:
        result.merge(reports.get())
    result.elapsed = time.perf_counter() - started
    for process in children:
        process.join()
    return result


# --- onsale: Redis + Lua through the service layer ------------------------------


def lua_side(
    plan: list[Attempt], clients: int, processes: int, event: Event
) -> tuple[Result, int]:
    layout = seat_layout.seat_layout_get(event_id=event.pk)
    seat_ids = layout.seat_ids

    def hold(number: int, attempt: Attempt) -> tuple[int, int] | None:
        try:
            held = services.hold_create(
                event_id=event.pk,
                user_id=attempt.user_id,
                session_id=f"bench-{number}",
                session_expires_at=SESSION_END,
                seat_ids=[seat_ids[seat] for seat in attempt.seats],
                max_seats_per_fan=10_000,
            )
        except exceptions.SeatsUnavailable:
            return None
        return (held.hold_id, attempt.user_id)

    def release(attempt: Attempt, token: tuple[int, int]) -> None:
        hold_id, user_id = token
        services.hold_release(event_id=event.pk, hold_id=hold_id, user_id=user_id)

    result = run("Redis + Lua (onsale)", plan, clients, processes, hold, release)
    snapshot = selectors.availability_snapshot(event_id=event.pk)
    held_now = sum(snapshot.is_unavailable(i) for i in range(layout.seat_count))
    return result, held_now


# --- baseline: MySQL SELECT ... FOR UPDATE ----------------------------------------

BASELINE_TABLES = (
    """CREATE TABLE bench_seat (
        id INT PRIMARY KEY,
        hold_id BIGINT NULL,
        user_id INT NULL,
        expires_at DOUBLE NULL
    ) ENGINE=InnoDB""",
    """CREATE TABLE bench_hold (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        user_id INT NOT NULL,
        expires_at DOUBLE NOT NULL
    ) ENGINE=InnoDB""",
)


def baseline_setup(seat_count: int) -> None:
    with connection.cursor() as cursor:
        for statement in BASELINE_TABLES:
            cursor.execute(statement)
        cursor.executemany(
            "INSERT INTO bench_seat (id) VALUES (%s)", [(n,) for n in range(seat_count)]
        )


def mysql_side(
    plan: list[Attempt], clients: int, processes: int, *, locking: bool = True
) -> tuple[Result, int]:
    """The baseline; `locking=False` is the control: the same transaction
    without FOR UPDATE, which shows the double holds the check must catch."""
    lock = " FOR UPDATE" if locking else ""

    def hold(number: int, attempt: Attempt) -> int | None:
        now = time.time()
        placeholders = ", ".join(["%s"] * len(attempt.seats))
        with transaction.atomic(), connection.cursor() as cursor:
            # The classic design: lock the seat rows (in id order, so two
            # transactions never deadlock), check them, take them.
            cursor.execute(
                f"SELECT id, hold_id, expires_at FROM bench_seat WHERE id IN ({placeholders}) "  # noqa: S608 - placeholders only
                f"ORDER BY id{lock}",
                list(attempt.seats),
            )
            for _, hold_id, expires_at in cursor.fetchall():
                if hold_id is not None and expires_at > now:
                    return None
            cursor.execute(
                "INSERT INTO bench_hold (user_id, expires_at) VALUES (%s, %s)",
                [attempt.user_id, now + 600],
            )
            hold_id = cursor.lastrowid
            cursor.execute(
                f"UPDATE bench_seat SET hold_id = %s, user_id = %s, expires_at = %s "  # noqa: S608 - placeholders only
                f"WHERE id IN ({placeholders})",
                [hold_id, attempt.user_id, now + 600, *attempt.seats],
            )
        return hold_id

    def release(attempt: Attempt, token: int) -> None:
        placeholders = ", ".join(["%s"] * len(attempt.seats))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE bench_seat SET hold_id = NULL, user_id = NULL, expires_at = NULL "  # noqa: S608 - placeholders only
                f"WHERE id IN ({placeholders}) AND hold_id = %s",
                [*attempt.seats, token],
            )
            cursor.execute("DELETE FROM bench_hold WHERE id = %s", [token])

    name = "MySQL SELECT ... FOR UPDATE" if locking else "control: MySQL, no FOR UPDATE"
    result = run(name, plan, clients, processes, hold, release)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bench_seat WHERE hold_id IS NOT NULL")
        (held_now,) = cursor.fetchone()
    return result, int(held_now)


# --- set-up, report -----------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(result: Result, held_now: int) -> None:
    print(
        f"{result.name:<30} {result.rate:>10,.0f} {result.granted:>8} {result.refused:>8} "
        f"{result.errors:>6} {statistics.median(result.latencies_ms):>8.2f} "
        f"{percentile(result.latencies_ms, 0.99):>8.2f} {result.double_holds:>7} "
        f"{'yes' if held_now == result.kept_seats else 'NO'}"
    )


def redis_cleanup() -> None:
    client = redis_client()
    batch = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=1000))
    for start in range(0, len(batch), 1000):
        client.unlink(*batch[start : start + 1000])


def baseline_reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bench_seat SET hold_id = NULL, user_id = NULL, expires_at = NULL"
        )
        cursor.execute("DELETE FROM bench_hold")


def scenario(
    title: str, *, hot: bool, options: argparse.Namespace
) -> tuple[float, int]:
    plan = workload(
        attempts=options.attempts, seat_count=options.seats, seed=options.seed, hot=hot
    )
    print(f"\n{title}")
    print(
        f"{'path':<30} {'holds/s':>10} {'granted':>8} {'refused':>8} {'errors':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'double':>7} consistent"
    )
    event = bench_event_create(seats=options.seats, name="Benchmark", open_now=False)
    store = StoreCpu()
    store.start()
    lua, lua_held = lua_side(plan, options.clients, options.processes, event)
    lua_store = store.spent()
    report(lua, lua_held)
    baseline_reset()
    store.start()
    mysql, mysql_held = mysql_side(plan, options.clients, options.processes)
    mysql_store = store.spent()
    report(mysql, mysql_held)
    ratio = lua.rate / mysql.rate if mysql.rate else float("inf")
    SUMMARY["scenarios"].append(
        {
            "title": title,
            "hot": hot,
            "ratio": ratio,
            **{
                f"{side}_{name}": value
                for side, result in (("lua", lua), ("mysql", mysql))
                for name, value in (
                    ("holds_per_second", result.rate),
                    ("granted", result.granted),
                    ("refused", result.refused),
                    ("errors", result.errors),
                    ("double_holds", result.double_holds),
                    ("p50_ms", percentile(result.latencies_ms, 0.5)),
                    ("p99_ms", percentile(result.latencies_ms, 0.99)),
                )
            },
        }
    )
    print(
        f"ratio (Lua / MySQL): {ratio:.1f}x (target >= 10x: "
        f"{'met' if ratio >= 10 else 'NOT met'}); double holds: "
        f"{lua.double_holds} (Lua), {mysql.double_holds} (MySQL)"
    )
    redis_cpu, mysql_cpu = lua_store["redis"], mysql_store["mysql"]
    if redis_cpu and mysql_cpu:
        lua_us = redis_cpu / lua.attempts * 1e6
        mysql_us = mysql_cpu / mysql.attempts * 1e6
        print(
            f"seat store CPU per attempt: Redis {lua_us:,.0f} us (onsale), "
            f"MariaDB {mysql_us:,.0f} us (baseline); holds one store core serves: "
            f"{1e6 / lua_us:,.0f}/s vs {1e6 / mysql_us:,.0f}/s = "
            f"{mysql_us / lua_us:.1f}x (target >= 10x: "
            f"{'met' if mysql_us / lua_us >= 10 else 'NOT met'})"
        )
        SUMMARY["scenarios"][-1].update(
            redis_cpu_us_per_attempt=lua_us, mysql_cpu_us_per_attempt=mysql_us
        )
    else:
        print("seat store CPU: not measured (Redis or MariaDB is not on this machine)")
    failures = lua.double_holds + mysql.double_holds + lua.errors + mysql.errors
    failures += int(lua_held != lua.kept_seats) + int(mysql_held != mysql.kept_seats)
    if options.control:
        baseline_reset()
        control, control_held = mysql_side(
            plan, options.clients, options.processes, locking=False
        )
        report(control, control_held)
        print(
            f"control: {control.double_holds} double holds without the lock "
            "(shows the check catches them)"
        )
    return ratio, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seats", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument(
        "--processes",
        type=int,
        default=8,
        help="spread the clients over this many processes (default 8: 8 "
        "threads each, as 8 gunicorn workers of 8 threads)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="also run the baseline without FOR UPDATE, to see double holds caught",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write the figures to this file (for bench/run.py)",
    )
    options = parser.parse_args()
    if options.clients % options.processes:
        parser.error("--clients must be a multiple of --processes")
    if options.seats % ROW or options.seats < HOT_ROWS * ROW:
        parser.error(f"--seats must be a multiple of {ROW}, at least {HOT_ROWS * ROW}")

    original_database = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        baseline_setup(options.seats)
        print(
            f"onsale hold benchmark: {options.seats:,} seats, {options.attempts:,} attempts "
            f"of {SEATS_PER_HOLD} seats, {options.clients} concurrent clients "
            f"({options.clients // options.processes} threads x {options.processes} "
            f"process{'es' if options.processes > 1 else ''}), "
            f"{KEEP_SHARE:.0%} of granted holds kept, the rest released at once; "
            f"{os.cpu_count()} CPUs shared with Redis and MariaDB"
        )
        _hot_ratio, hot_failures = scenario(
            f"on-sale demand: adjacent pairs, {HOT_SHARE:.0%} of fans after the best "
            f"{HOT_ROWS} rows",
            hot=True,
            options=options,
        )
        _flat_ratio, flat_failures = scenario(
            "uniform demand: two random seats anywhere", hot=False, options=options
        )
        if options.json is not None:
            SUMMARY.update(
                attempts=options.attempts,
                clients=options.clients,
                seats=options.seats,
                processes=options.processes,
                failures=hot_failures + flat_failures,
            )
            options.json.write_text(json.dumps(SUMMARY, indent=1))
        return 1 if hot_failures or flat_failures else 0
    finally:
        connection.creation.destroy_test_db(original_database, verbosity=0)
        redis_cleanup()


if __name__ == "__main__":
    sys.exit(main())
