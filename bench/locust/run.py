#!/usr/bin/env python
"""Run the Locust on-sale scenario against a stack of its own, then check it.

    .venv/bin/python bench/locust/run.py                 # 2 min, 300 users
    .venv/bin/python bench/locust/run.py --duration 30 --users 60 --fans 200

It starts the stack (bench/harness/stack.py: a MySQL database and Redis prefix of
its own, gunicorn, nginx in front, a Celery worker), creates an organizer,
an event with a reserved-seat map and its waiting room (the pre-queue open
now, the on-sale `--prequeue-seconds` after the start), registers `--fans`
fans and `--bots` bot accounts in bulk (`create_users`) and gives each a
bearer token, writes the fixture, and runs Locust headless through nginx for
`--duration` seconds with `--users` users (bench/locust/locustfile.py).
Stats go to `<out>/locust_*.csv` and `<out>/report.html`.

Then it checks, and exits 1 if any check fails:

- Locust's own verdict: no failed request, no 5xx, no hold granted to a bot;
- no oversell: MySQL's seat sales <= capacity, each seat sold once, equal
  to the seats in paid order lines, equal to the seats the 201 answers
  reported (when no checkout was left pending), and equal to the Redis "sold"
  bitmap;
- admission within bounds: from the draw to the end, the serving number
  advanced by no more than burst + the integral of the rate (the organizer's
  changes included) and, while fans were waiting, by no less than that
  integral less two seconds of admissions.

Everything it started or created is removed at the end, on failure and on
Ctrl-C too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.harness.stack import Stack, exit_on_sigterm  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
ROW = 50


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds")
    parser.add_argument("--users", type=int, default=300, help="concurrent fans")
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--fans", type=int, default=3000, help="registered fans")
    parser.add_argument("--bots", type=int, default=10, help="bot users")
    parser.add_argument("--seats", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=600, help="admissions/min")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--rate-changes",
        default="0.4:1200,0.7:300",
        help="fraction of the run:new rate, comma separated (the organizer)",
    )
    parser.add_argument("--prequeue-seconds", type=int, default=15)
    parser.add_argument(
        "--abandon",
        default="wait=0.1,claim=0.05,hold=0.1,checkout=0.1",
        help="share of fans who give up at each step",
    )
    parser.add_argument("--seats-per-fan", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="report directory")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if args.seats % ROW:
        parser.error(f"--seats must be a multiple of {ROW}")
    if args.out is None:
        args.out = ROOT / "var" / f"locust-{time.strftime('%Y%m%d-%H%M%S')}"
    return args


def sale_create(args: argparse.Namespace) -> dict[str, Any]:
    """The organizer, the event with its seat map and waiting room, and the
    fans and bots with bearer tokens; returns the fixture for the locustfile."""
    from django.utils import timezone
    from knox.models import AuthToken

    from onsale.events.models import Event
    from onsale.payments.fake.cards import SUCCESS_CARD
    from onsale.seatselection import selectors as seat_selectors
    from onsale.seatselection.seatmaps.write import seatmap_replace
    from onsale.usermgmt.models import Organization, User
    from onsale.usermgmt.services import users_bulk_create
    from onsale.waitingroom import services as room_services

    organization = Organization.objects.create(name="Load test promoter")
    organizer = User.objects.create_user(
        "loadtest-organizer@example.test",
        "loadtest-organizer-password",
        role=User.Role.ORGANIZER,
        organization=organization,
    )
    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        name="Load test on-sale",
        venue_name="Arena",
        onsale_at=now + timedelta(days=1),
        starts_at=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
    )
    rows = args.seats // ROW
    seatmap_replace(
        event=event,
        data={
            "categories": [
                {"code": "A", "name": "Front", "price": "80.00"},
                {"code": "B", "name": "Back", "price": "40.00"},
            ],
            "generate": [
                {
                    "section": "Front",
                    "rows": rows // 2,
                    "seats_per_row": ROW,
                    "category": "A",
                },
                {
                    "section": "Back",
                    "rows": rows - rows // 2,
                    "seats_per_row": ROW,
                    "category": "B",
                },
            ],
        },
    )
    onsale_at = timezone.now() + timedelta(seconds=args.prequeue_seconds)
    Event.objects.filter(pk=event.pk).update(onsale_at=onsale_at)
    room_services.waitingroom_config_update(
        event_id=event.pk,
        actor=organizer,
        state="scheduled",
        prequeue_opens_at=timezone.now() - timedelta(minutes=1),
        onsale_at=onsale_at,
        rate_per_minute=args.rate,
        burst=args.burst,
        max_active=100_000,
        session_seconds=600,
        claim_seconds=60,
        max_seats_per_fan=max(6, args.seats_per_fan),
    )
    seat_selectors.availability_snapshot(event_id=event.pk)

    def accounts(prefix: str, count: int) -> list[list[Any]]:
        users_bulk_create(count=count, prefix=prefix, password="loadtest-password-1")
        tokens = []
        for user in User.objects.filter(email__startswith=prefix).order_by("pk"):
            _, bearer = AuthToken.objects.create(user=user)
            tokens.append([user.pk, bearer])
        return tokens

    _, organizer_bearer = AuthToken.objects.create(user=organizer)
    return {
        "event_id": event.pk,
        "onsale_at": onsale_at.isoformat(),
        "capacity": args.seats,
        "success_card": SUCCESS_CARD,
        "organizer_bearer": organizer_bearer,
        "fans": accounts("loadtest-fan-", args.fans),
        "bots": accounts("loadtest-bot-", max(args.bots, 1)),
    }


def pending_wait(event_id: int, *, seconds: float) -> None:
    from onsale.orders.models import Order

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Order.objects.filter(
            event_id=event_id, state=Order.State.PENDING
        ).exists():
            return
        time.sleep(1)


def oversell_check(
    event_id: int, capacity: int, tally: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    from collections import Counter

    from django.db.models import Count

    from onsale.orders.models import Order, OrderLine
    from onsale.seatselection import layout as seat_layout
    from onsale.seatselection import scripts as seat_scripts
    from onsale.seatselection.models import Seat, SeatSale

    problems: list[str] = []
    sales = list(
        SeatSale.objects.filter(event_id=event_id).values_list("seat_id", flat=True)
    )
    twice = (
        SeatSale.objects.filter(event_id=event_id)
        .values("seat_id")
        .annotate(times=Count("id"))
        .filter(times__gt=1)
        .count()
    )
    paid_lines = OrderLine.objects.filter(
        order__event_id=event_id, order__state=Order.State.PAID
    ).count()
    pending = Order.objects.filter(event_id=event_id, state=Order.State.PENDING).count()
    answered = Counter(tally.get("sold_seat_ids", []))
    # Seats of checkouts sent but never answered: Locust stopped the fan
    # mid-request at the end of the run; the server may have sold them.
    in_flight = {
        seat_id
        for seats in tally.get("checkout_unanswered", {}).values()
        for seat_id in seats
    }
    layout = seat_layout.seat_layout_get(event_id=event_id)
    raw = seat_scripts.snapshot_script(event_id=event_id, layout_id=layout.layout_id)
    index_of = dict(Seat.objects.filter(event_id=event_id).values_list("pk", "index"))
    redis_sold = {
        seat_id
        for seat_id, index in index_of.items()
        if raw is not None
        and index >> 3 < len(raw.sold)
        and raw.sold[index >> 3] & (0x80 >> (index & 7))
    }
    mysql_sold = set(sales)
    if len(sales) > capacity:
        problems.append(f"oversell: {len(sales)} seats sold for {capacity}")
    if twice:
        problems.append(f"oversell: {twice} seats with two sales")
    if any(times > 1 for times in answered.values()):
        problems.append("oversell: one seat in two 201 checkout answers")
    if paid_lines != len(sales):
        problems.append(f"paid order lines {paid_lines} != seat sales {len(sales)}")
    if not pending and not (set(answered) <= mysql_sold <= set(answered) | in_flight):
        problems.append(
            f"seats answered sold ({len(answered)}) != MySQL seat sales "
            f"({len(sales)}), with {len(in_flight)} seats in unanswered checkouts"
        )
    if raw is None:
        problems.append("Redis lost the event's seat state")
    elif redis_sold != mysql_sold:
        problems.append(
            f"Redis sold bitmap ({len(redis_sold)}) != MySQL seat sales "
            f"({len(mysql_sold)}): only in Redis {len(redis_sold - mysql_sold)}, "
            f"only in MySQL {len(mysql_sold - redis_sold)}"
        )
    figures = {
        "capacity": capacity,
        "mysql_seat_sales": len(sales),
        "paid_order_lines": paid_lines,
        "pending_orders": pending,
        "seats_answered_sold": len(answered),
        "seats_in_unanswered_checkouts": len(in_flight),
        "redis_sold": len(redis_sold),
    }
    return problems, figures


def admission_check(
    event_id: int, args: argparse.Namespace, rate_changes: list[list[int]]
) -> tuple[list[str], dict[str, Any]]:
    """The serving number's advance from the draw to now against the token
    bucket's bounds. A rate change counts from the moment the PATCH was sent
    (upper bound) or answered (lower bound); the bucket may apply a new rate
    to the interval since the previous evaluation (about a second), so the
    bounds get two seconds of the larger rate as slack."""
    from onsale.waitingroom import admission as room_admission

    evaluation = room_admission.admission_evaluate(event_id=event_id)
    start, end = evaluation.drawn_at_ms, evaluation.now_ms
    if not evaluation.drawn or start <= 0:
        return ["the pre-queue was never drawn"], {}
    changes = sorted(rate_changes)
    rates = [args.rate] + [rate for _, _, rate in changes]
    upper = lower = 0.0
    # Piecewise: before each change the old rate, during the PATCH the
    # larger (upper) or smaller (lower) of old and new.
    cursor, current = start, args.rate
    for sent, answered, rate in changes:
        sent, answered = max(sent, start), max(answered, start)
        upper += current * max(0, sent - cursor) / 60_000
        lower += current * max(0, sent - cursor) / 60_000
        upper += max(current, rate) * max(0, answered - sent) / 60_000
        lower += min(current, rate) * max(0, answered - sent) / 60_000
        cursor, current = max(cursor, answered), rate
    upper += current * max(0, end - cursor) / 60_000
    lower += current * max(0, end - cursor) / 60_000
    slack = max(rates) * 2 / 60 + 1
    admitted = evaluation.admitted_total
    upper_bound = args.burst + upper + slack
    # Fewer fans than tokens: everyone who joined was served.
    lower_bound = min(evaluation.issued, args.burst + lower - slack)
    problems = []
    if admitted > upper_bound:
        problems.append(
            f"over-admission: {admitted} admitted, at most {upper_bound:.1f} allowed"
        )
    if admitted < lower_bound:
        problems.append(
            f"under-admission: {admitted} admitted, at least {lower_bound:.1f} expected"
        )
    figures = {
        "admitted": admitted,
        "issued": evaluation.issued,
        "seconds_since_draw": (end - start) / 1000,
        "theoretical": args.burst + (upper + lower) / 2,
        "upper_bound": round(upper_bound, 1),
        "lower_bound": round(lower_bound, 1),
        "rate_changes": changes,
    }
    return problems, figures


def locust_run(
    args: argparse.Namespace, stack: Stack, fixture: Path, results: Path
) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    classes = ["Fan", "Organizer"] + (["Bot"] if args.bots else [])
    env = {
        **os.environ,
        "ONSALE_LOCUST_FIXTURE": str(fixture),
        "ONSALE_LOCUST_RESULTS": str(results),
        "ONSALE_LOCUST_ABANDON": args.abandon,
        "ONSALE_LOCUST_BOTS": str(args.bots),
        "ONSALE_LOCUST_RATES": args.rate_changes,
        "ONSALE_LOCUST_DURATION": str(args.duration),
        "ONSALE_LOCUST_SEATS_PER_FAN": str(args.seats_per_fan),
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        stack.proxy_url,
        "--users",
        str(args.users + 1 + args.bots),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(args.out / "locust"),
        "--html",
        str(args.out / "report.html"),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    print("$", " ".join(command[2:]), flush=True)
    return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    extra = {
        # The platform's own per-address join limit stays on (each fan has an
        # address of its own); nginx's is in front of it.
        "WAITINGROOM_JOIN_LIMIT_PER_IP": "120",
        "SEAT_HOLD_SECONDS": "120",
    }
    started = time.monotonic()
    with Stack(
        workers=args.workers,
        threads=args.threads,
        extra_env=extra,
        keep_logs=args.keep_logs,
    ) as stack:
        os.environ.update(stack.env)
        import django

        django.setup()
        fixture = sale_create(args)
        fixture_path = stack.work / "fixture.json"
        fixture_path.write_text(json.dumps(fixture))
        results_path = args.out / "results.json"
        print(
            f"stack up in {time.monotonic() - started:.0f} s: nginx {stack.proxy_url} "
            f"-> gunicorn {args.workers}x{args.threads} {stack.origin}, event "
            f"{fixture['event_id']} ({args.seats} seats), {len(fixture['fans'])} fans, "
            f"on-sale in {args.prequeue_seconds} s",
            flush=True,
        )
        code = locust_run(args, stack, fixture_path, results_path)
        from django.db import connection

        connection.close()
        # Let the worker finish paying any order answered 202 (the checks
        # compare paid orders with seat sales).
        pending_wait(fixture["event_id"], seconds=60)
        tally = json.loads(results_path.read_text()) if results_path.exists() else {}
        problems: list[str] = []
        if code != 0:
            problems.append(f"locust exited with {code} (failed requests or 5xx)")
        if tally.get("server_errors"):
            problems.append(f"5xx answers: {tally['server_errors']}")
        if tally.get("bot_holds_granted"):
            problems.append(f"bots granted holds: {tally['bot_holds_granted']}")
        sale_problems, sale = oversell_check(
            fixture["event_id"], fixture["capacity"], tally
        )
        room_problems, room = admission_check(
            fixture["event_id"], args, tally.get("rate_changes", [])
        )
        problems += sale_problems + room_problems
        summary = {
            "sale": sale,
            "admission": room,
            "outcomes": tally.get("outcomes", {}),
            "fans_started": tally.get("fans_started", 0),
            "fans_finished": tally.get("fans_finished", 0),
            "problems": problems,
        }
        (args.out / "checks.json").write_text(json.dumps(summary, indent=1))
        if problems:
            print(stack.log_tail(f"gunicorn-{stack.worker_class}.log"), file=sys.stderr)
    print(json.dumps({k: summary[k] for k in ("sale", "admission")}, indent=1))
    print("outcomes:", json.dumps(summary["outcomes"], sort_keys=True))
    print(f"report: {args.out / 'report.html'}; stats: {args.out}/locust_stats.csv")
    for problem in problems:
        print("FAILED:", problem)
    print("all checks passed" if not problems else f"{len(problems)} checks failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
