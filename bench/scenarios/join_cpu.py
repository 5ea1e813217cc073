#!/usr/bin/env python
"""Where a join's CPU goes, measured so that a busy machine hardly moves it.

    .venv/bin/python bench/scenarios/join_cpu.py              # ~1 minute
    .venv/bin/python bench/scenarios/join_cpu.py --rounds 3 --batch 300

Requests go through Django's WSGI handler in this process (every middleware,
DRF, the real MySQL and Redis; no HTTP server and no load generator), and the
CPU time each one costs is read, not the wall time: waiting for the CPU does
not count, so the rates' noise on a shared machine (scenarios/waitingroom.py's
rounds can differ by 2x) mostly goes away. The CPU that MariaDB and Redis spent
meanwhile is read from /proc/<pid>/stat when they run on this machine.

Side by side, interleaved in rounds (medians):
- the empty view (`/bench/empty`, no authentication);
- a join, every request a different signed-in fan, with the account check
  cached in Redis as a sign-in leaves it (the production setting);
- the same join with that cache off (USERMGMT_ACCOUNT_CACHE_SECONDS=0: the
  account read from MySQL on every request, as before the cache).

gunicorn's own work per request (about 0.3 ms here: HTTP parsing, sockets,
threads) is the same for all three and not in these figures; add it to both
sides of a ratio to compare with scenarios/waitingroom.py's rates.

Uses MariaDB at 127.0.0.1:3306 (a database of its own, dropped at the end) and
the local Redis (a key prefix of its own, removed at the end).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: the repository's `bench` package
    sys.path.insert(0, str(ROOT))

from bench.scenarios import waitingroom as waitingroom_bench  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _server_pid(name: str) -> int | None:
    try:
        found = subprocess.run(
            ["pgrep", "-o", "-x", name], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    return int(found.stdout.split()[0]) if found.stdout.strip() else None


def _cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Sample:
    app_us: float
    mysql_us: float | None
    redis_us: float | None

    @property
    def total_us(self) -> float:
        return self.app_us + (self.mysql_us or 0) + (self.redis_us or 0)


def _measure(
    batch: int, send: Callable[[int], None], servers: dict[str, int | None]
) -> Sample:
    before = {name: _cpu_seconds(pid) for name, pid in servers.items()}
    started = time.process_time()
    for index in range(batch):
        send(index)
    app = (time.process_time() - started) / batch * 1e6
    after = {name: _cpu_seconds(pid) for name, pid in servers.items()}

    def per_request(name: str) -> float | None:
        start, end = before[name], after[name]
        if start is None or end is None:
            return None
        return (end - start) / batch * 1e6

    return Sample(app, per_request("mariadbd"), per_request("redis-server"))


def _median(samples: list[Sample]) -> Sample:
    def middle(values: list[float | None]) -> float | None:
        known = [value for value in values if value is not None]
        return statistics.median(known) if known else None

    return Sample(
        statistics.median(sample.app_us for sample in samples),
        middle([sample.mysql_us for sample in samples]),
        middle([sample.redis_us for sample in samples]),
    )


def _format(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument(
        "--batch", type=int, default=1000, help="requests per measurement"
    )
    parser.add_argument(
        "--server-us",
        type=float,
        default=300.0,
        help="the HTTP server's own CPU per request, added to both sides of the "
        "ratios (scenarios/waitingroom.py: gunicorn's CPU per empty request minus "
        "this script's empty view, about 300 us here)",
    )
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    # What the waiting-room scenario's environment expects of a gunicorn it
    # never starts here.
    args.port, args.workers, args.threads = 0, 1, 1

    workdir = Path(tempfile.mkdtemp(prefix="onsale-joincpu-"))
    env = waitingroom_bench._environment(args, workdir)
    os.environ.update(env)
    database = env["DATABASE_URL"].rsplit("/", 1)[1]
    fans_needed = 2 * args.batch * (args.rounds + 1)
    print(
        f"join CPU benchmark: Django's WSGI handler in-process, MySQL database "
        f"{database}, Redis prefix {env['REDIS_KEY_PREFIX']}, {args.rounds} rounds "
        f"of {args.batch} requests each"
    )
    waitingroom_bench._mysql(
        args, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
    )
    try:
        waitingroom_bench._manage(env, "migrate", "--noinput", "-v", "0")
        waitingroom_bench._manage(
            env, "create_users", "--count", str(fans_needed), "--prefix", "benchfan"
        )
        import django

        django.setup()
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIHandler

        from onsale.usermgmt.models import User

        staff = User.objects.create_user(
            "bench-staff@example.test", "bench-staff-password-1", role=User.Role.STAFF
        )
        credentials, _ = waitingroom_bench._signed_in_fans(workdir, "benchfan")
        fans = [line.split() for line in credentials.read_text().splitlines()]
        event_id = waitingroom_bench._room(
            staff=staff, state="open", rate_per_minute=600, burst=50
        )
        handler = WSGIHandler()
        servers = {name: _server_pid(name) for name in ("mariadbd", "redis-server")}
        statuses: dict[str, set[str]] = {"empty": set(), "join": set()}

        def call(kind: str, environ: dict[str, Any]) -> None:
            def start_response(
                status: str, headers: Any, exc_info: Any = None
            ) -> Callable[[bytes], object]:
                statuses[kind].add(status.split()[0])
                return lambda data: None

            body = handler(environ, start_response)
            b"".join(body)
            body.close()

        def base(method: str, path: str) -> dict[str, Any]:
            return {
                "REQUEST_METHOD": method,
                "PATH_INFO": path,
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "HTTP_HOST": "127.0.0.1",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(b""),
                "wsgi.errors": sys.stderr,
                "CONTENT_LENGTH": "0",
            }

        def empty(_: int) -> None:
            call("empty", base("GET", "/bench/empty"))

        next_fan = 0

        def join(_: int) -> None:
            nonlocal next_fan
            session, csrf = fans[next_fan]
            next_fan += 1
            environ = base("POST", f"/api/v1/events/{event_id}/queue")
            environ.update(
                {
                    "CONTENT_TYPE": "application/json",
                    "HTTP_COOKIE": f"sessionid={session}; csrftoken={csrf}",
                    "HTTP_X_CSRFTOKEN": csrf,
                }
            )
            call("join", environ)

        cache_seconds = settings.USERMGMT_ACCOUNT_CACHE_SECONDS

        def uncached(index: int) -> None:
            settings.USERMGMT_ACCOUNT_CACHE_SECONDS = 0
            try:
                join(index)
            finally:
                settings.USERMGMT_ACCOUNT_CACHE_SECONDS = cache_seconds

        kinds: dict[str, Callable[[int], None]] = {
            "empty view": empty,
            "join, account check cached": join,
            "join, account from MySQL": uncached,
        }
        # Warm the connections, the scripts and the interpreter first.
        _measure(args.batch // 2, empty, servers)
        _measure(args.batch // 2, join, servers)
        _measure(args.batch // 2, uncached, servers)
        results: dict[str, list[Sample]] = {name: [] for name in kinds}
        for number in range(1, args.rounds + 1):
            for name, send in kinds.items():
                results[name].append(_measure(args.batch, send, servers))
            print(
                f"round {number}: "
                + ", ".join(
                    f"{name} {samples[-1].app_us:,.0f} us"
                    for name, samples in results.items()
                ),
                flush=True,
            )
        if statuses["empty"] != {"200"} or not statuses["join"] <= {"200", "201"}:
            raise SystemExit(f"unexpected answers: {statuses}")
        medians = {name: _median(samples) for name, samples in results.items()}
        print()
        print(
            f"  {'CPU per request (us), medians':34} {'app':>7} {'MariaDB':>8} {'Redis':>7} {'total':>7}"
        )
        for name, sample in medians.items():
            print(
                f"  {name:34} {sample.app_us:7,.0f} {_format(sample.mysql_us):>8} "
                f"{_format(sample.redis_us):>7} {sample.total_us:7,.0f}"
            )
        empty_sample = medians["empty view"]
        cached = medians["join, account check cached"]
        uncached_sample = medians["join, account from MySQL"]
        gunicorn_us = args.server_us
        print()
        print(
            f"  the cache saves per join: {uncached_sample.app_us - cached.app_us:,.0f} us of "
            f"application CPU, {uncached_sample.total_us - cached.total_us:,.0f} us with the servers'"
        )
        for name, sample in (("cached", cached), ("from MySQL", uncached_sample)):
            print(
                f"  join ({name}) / empty by CPU, with {gunicorn_us:.0f} us of HTTP server "
                f"added to both: {(empty_sample.total_us + gunicorn_us) / (sample.total_us + gunicorn_us):.2f}"
            )
        print(
            f"  answers: empty {sorted(statuses['empty'])}, join {sorted(statuses['join'])}"
        )
        return 0
    finally:
        waitingroom_bench._mysql(args, f"DROP DATABASE IF EXISTS `{database}`")
        from bench.harness.stack import redis_keys_delete

        redis_keys_delete(args.redis_url, env["REDIS_KEY_PREFIX"])
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
