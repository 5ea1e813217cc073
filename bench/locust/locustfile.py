"""Locust: an on-sale rush against the real stack.

Started by `bench/locust/run.py`, which sets the stack up (database,
gunicorn, nginx, Celery worker, the event, its seat map and waiting room, fans
registered in bulk with bearer tokens) and writes the fixture this file reads.
Three kinds of users:

- `Fan` (the crowd): joins the pre-queue, polls the public status document
  at the page's own intervals (queue.js: in the pre-queue every 10 s or just
  after the on-sale, whichever is sooner; then 10 / 5 / 2 s as the fan nears
  the front, 3 s once served; plus up to 1 s of jitter),
  claims admission with `GET .../queue/me`, holds seats (two chosen on the map
  from the availability bitmap, or "best available"), checks out with the fake
  provider's success card, and ends the session. Each step has its share of
  fans who give up there (ONSALE_LOCUST_ABANDON). A Locust user plays one fan
  after another until the fixture's fans run out.
- `Organizer` (one): changes the admission rate mid-sale (ONSALE_LOCUST_RATES,
  at given fractions of the run) and watches the live sales page.
- `Bot` (ONSALE_LOCUST_BOTS of them, all behind three addresses): hammers
  join and hold. Their 429s (nginx or the platform) and 401/403s are the
  expected answers; a granted hold for a bot is a failure.

Every fan sends `X-Forwarded-For` with an address of its own (the load
generator plays the load balancer; nginx trusts 127.0.0.1), so the per-address
join limits apply per fan as they would on the internet.

Environment:
  ONSALE_LOCUST_FIXTURE   the JSON fixture written by run.py (required)
  ONSALE_LOCUST_RESULTS   where to write the run's tallies (JSON) at the end
  ONSALE_LOCUST_ABANDON   "wait=0.1,claim=0.05,hold=0.1,checkout=0.1" (shares)
  ONSALE_LOCUST_BOTS      how many bot users (default 0)
  ONSALE_LOCUST_RATES     "0.4:1200,0.7:300": at 40 % of the run set 1,200/min...
  ONSALE_LOCUST_DURATION  the run's length in seconds (for the fractions above)
  ONSALE_LOCUST_SEATS_PER_FAN  seats each fan holds (default 2)

At the end the run fails (exit code 1) when any answer was a 5xx or a bot was
granted a hold; run.py adds the checks that need the database and Redis.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from locust import HttpUser, between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

FIXTURE: dict[str, Any] = {}
if os.environ.get("ONSALE_LOCUST_FIXTURE"):
    with open(os.environ["ONSALE_LOCUST_FIXTURE"]) as handle:
        FIXTURE = json.load(handle)


def _shares(spec: str) -> dict[str, float]:
    shares = {"wait": 0.0, "claim": 0.0, "hold": 0.0, "checkout": 0.0}
    for part in filter(None, (item.strip() for item in spec.split(","))):
        step, _, share = part.partition("=")
        if step not in shares:
            raise ValueError(f"ONSALE_LOCUST_ABANDON: unknown step {step!r}")
        shares[step] = float(share)
    return shares


ABANDON = _shares(os.environ.get("ONSALE_LOCUST_ABANDON", ""))
SEATS_PER_FAN = int(os.environ.get("ONSALE_LOCUST_SEATS_PER_FAN", "2"))
DURATION = float(os.environ.get("ONSALE_LOCUST_DURATION", "60"))
RATE_PLAN = [
    (float(at), int(rate))
    for at, _, rate in (
        part.partition(":")
        for part in os.environ.get("ONSALE_LOCUST_RATES", "").split(",")
        if part
    )
]

# The run's tallies, written to ONSALE_LOCUST_RESULTS when Locust quits.
TALLY: dict[str, Any] = {
    "server_errors": Counter(),  # request name -> count of 5xx
    "outcomes": Counter(),  # "<step> <status> <code>" -> count
    "sold_seat_ids": [],  # seats in 201 checkout answers
    # hold id -> its seats, while its checkout has no answer: a fan stopped at
    # the end of the run (--stop-timeout) may leave one sent and unanswered.
    "checkout_unanswered": {},
    "orders": 0,
    "admitted_claims": 0,
    "bot_holds_granted": 0,
    "rate_changes": [],  # [sent at ms, answered at ms, new rate]
    "fans_started": 0,
    "fans_finished": 0,
}
_fans = iter(FIXTURE.get("fans", []))


@events.request.add_listener
def _count_server_errors(
    name: str, response: Any = None, exception: Any = None, **_: Any
) -> None:
    status = getattr(response, "status_code", 0) or 0
    if status >= 500 or (exception is not None and status == 0):
        TALLY["server_errors"][name] += 1


@events.quitting.add_listener
def _write_results(environment: Any, **_: Any) -> None:
    failures = sum(TALLY["server_errors"].values()) + TALLY["bot_holds_granted"]
    if failures:
        environment.process_exit_code = 1
    path = os.environ.get("ONSALE_LOCUST_RESULTS")
    if path:
        with open(path, "w") as out:
            json.dump(TALLY, out, indent=1, sort_keys=True)


def _address(user_id: int) -> str:
    return f"10.{(user_id >> 16) & 255}.{(user_id >> 8) & 255}.{user_id & 255}"


def _until_onsale(status: dict[str, Any]) -> float:
    """Seconds to the on-sale by the server's clock (the page corrects its own
    clock the same way)."""
    try:
        onsale = datetime.fromisoformat(status["onsale_at"])
        now = datetime.fromisoformat(status["server_time"])
    except (KeyError, TypeError, ValueError):
        return 10.0
    return (onsale - now).total_seconds()


def _code(response: Any) -> str:
    try:
        body = response.json()
    except Exception:  # not JSON (an nginx page): no code to report
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


class Fan(FastHttpUser):
    """One fan after another through the on-sale (see the module docstring)."""

    weight = 100
    wait_time = constant(0)
    # Keep-alive connections like a browser; a fan's steps reuse them.
    connection_timeout = 10.0
    network_timeout = 30.0

    def on_start(self) -> None:
        self.event_id = int(FIXTURE["event_id"])
        self.seat_ids: list[int] = []
        self.categories: list[str] = []

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.bearer}",
            "X-Forwarded-For": _address(self.user_id),
            "Accept": "application/json",
        }

    def _seat_map(self) -> None:
        if self.seat_ids:
            return
        with self.client.get(
            f"/api/v1/events/{self.event_id}/seats",
            name="seat map",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"seat map {response.status_code}")
                return
            document = response.json()
        self.seat_ids = [seat[0] for seat in document["seats"]]
        self.categories = [
            category["code"]
            for category in document["categories"]
            if not category.get("general_admission")
        ]

    @task
    def on_sale(self) -> None:
        fan = next(_fans, None)
        if fan is None:
            # Every registered fan has had their turn: this user stays idle.
            time.sleep(5)
            return
        self.user_id, self.bearer = int(fan[0]), str(fan[1])
        TALLY["fans_started"] += 1
        token = self._wait_for_admission()
        if token is None:
            return
        hold = self._hold(token)
        if hold is None:
            self._done()
            return
        if random.random() < ABANDON["checkout"]:
            TALLY["outcomes"]["abandoned at checkout"] += 1
            return  # the hold expires, the session ends on its own
        self._checkout(token, hold)
        self._done()
        TALLY["fans_finished"] += 1

    def _wait_for_admission(self) -> str | None:
        base = f"/api/v1/events/{self.event_id}/queue"
        with self.client.post(
            base, headers=self._headers(), name="join", catch_response=True
        ) as response:
            TALLY["outcomes"][f"join {response.status_code} {_code(response)}"] += 1
            if response.status_code not in (200, 201):
                response.failure(f"join {response.status_code} {_code(response)}")
                return None
            place = response.json()
        number = place.get("number")
        gives_up_after = (
            random.randint(1, 4) if random.random() < ABANDON["wait"] else None
        )
        polls = 0
        while True:
            with self.client.get(
                f"{base}/status", name="status", catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}")
                    time.sleep(10 + random.random() * 5)
                    continue
                status = response.json()
            polls += 1
            if gives_up_after is not None and polls >= gives_up_after:
                TALLY["outcomes"]["abandoned while waiting"] += 1
                return None
            if status["state"] == "closed":
                return None
            if number is None:
                # The pre-queue: after the draw, ask for the number once.
                if status.get("prequeue_draw"):
                    me = self._me()
                    if me is None:
                        return None
                    number = me.get("number")
                    if me.get("access_token"):
                        return self._claimed(me)
                    interval = 3.0
                else:
                    # Again just after the sale starts, and at least every 10 s.
                    interval = max(1.0, min(10.0, _until_onsale(status) + 0.3))
            elif status["serving"] >= number:
                if random.random() < ABANDON["claim"]:
                    TALLY["outcomes"]["abandoned at the claim"] += 1
                    return None
                me = self._me()
                if me is None:
                    return None
                if me.get("access_token"):
                    return self._claimed(me)
                if me.get("state") in ("expired", "done"):
                    TALLY["outcomes"][f"claim {me.get('state')}"] += 1
                    return None
                interval = 3.0
            else:
                ahead = number - status["serving"] - 1
                interval = 2.0 if ahead < 100 else 5.0 if ahead < 2000 else 10.0
            time.sleep(interval + random.random())

    def _me(self) -> dict[str, Any] | None:
        with self.client.get(
            f"/api/v1/events/{self.event_id}/queue/me",
            headers=self._headers(),
            name="me (claim)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"me {response.status_code} {_code(response)}")
                return None
            return dict(response.json())

    def _claimed(self, me: dict[str, Any]) -> str:
        TALLY["admitted_claims"] += 1
        return str(me["access_token"])

    def _hold(self, token: str) -> dict[str, Any] | None:
        self._seat_map()
        headers = {**self._headers(), "X-Access-Token": token}
        path = f"/api/v1/events/{self.event_id}/holds"
        for attempt in range(3):
            if attempt == 0 and random.random() < 0.5 and self.seat_ids:
                body: dict[str, Any] = {"seats": self._free_pair()}
                name = "hold (chosen seats)"
            else:
                body = {
                    "category": random.choice(self.categories),
                    "quantity": SEATS_PER_FAN,
                }
                name = "hold (best available)"
            if not body.get("seats", True):
                continue
            with self.client.post(
                path, json=body, headers=headers, name=name, catch_response=True
            ) as response:
                code = _code(response)
                TALLY["outcomes"][f"hold {response.status_code} {code}"] += 1
                if response.status_code == 201:
                    hold = dict(response.json())
                    if random.random() < ABANDON["hold"]:
                        TALLY["outcomes"]["abandoned with a hold"] += 1
                        return None
                    return hold
                if response.status_code == 409:
                    # Someone was faster, or the category is sold out: an
                    # answer the page handles, not a failure.
                    response.success()
                    if code == "not_enough_seats":
                        return None
                    continue
                response.failure(f"hold {response.status_code} {code}")
                return None
        return None

    def _free_pair(self) -> list[int]:
        """Two free seats side by side (by index) from the cacheable
        availability bitmap, as the seat map page picks them."""
        with self.client.get(
            f"/api/v1/events/{self.event_id}/seats/availability",
            name="availability",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"availability {response.status_code}")
                return []
            bitmap = base64.b64decode(response.json()["unavailable"])

        def free(index: int) -> bool:
            return not bitmap[index >> 3] & (0x80 >> (index & 7))

        count = len(self.seat_ids)
        start = random.randrange(count)
        for offset in range(count):
            index = (start + offset) % count
            group = list(range(index, index + SEATS_PER_FAN))
            if group[-1] < count and all(free(i) for i in group):
                return [self.seat_ids[i] for i in group]
        return []

    def _checkout(self, token: str, hold: dict[str, Any]) -> None:
        headers = {
            **self._headers(),
            "X-Access-Token": token,
            "Idempotency-Key": uuid.uuid4().hex,
        }
        body = {
            "hold_id": hold["hold_id"],
            "event_id": self.event_id,
            "payment": {
                "card_number": FIXTURE.get("success_card", "4242424242424242"),
                "exp_month": 12,
                "exp_year": 2030,
                "cvc": "123",
            },
            "buyer": {"name": "Load Test", "email": "fan@example.test"},
        }
        unanswered = TALLY["checkout_unanswered"]
        unanswered[str(hold["hold_id"])] = [
            seat["id"] for seat in hold.get("seats", []) if seat.get("id")
        ]
        with self.client.post(
            "/api/v1/checkout",
            json=body,
            headers=headers,
            name="checkout",
            catch_response=True,
        ) as response:
            unanswered.pop(str(hold["hold_id"]), None)
            TALLY["outcomes"][f"checkout {response.status_code} {_code(response)}"] += 1
            if response.status_code == 201:
                order = response.json()
                TALLY["orders"] += 1
                TALLY["sold_seat_ids"].extend(
                    line["seat_id"] for line in order["lines"] if line.get("seat_id")
                )
            elif response.status_code == 202:
                pass  # paid later by the worker; run.py counts it from MySQL
            elif response.status_code == 409:
                response.success()  # the hold expired meanwhile
            else:
                response.failure(f"checkout {response.status_code} {_code(response)}")

    def _done(self) -> None:
        self.client.post(
            f"/api/v1/events/{self.event_id}/queue/done",
            headers=self._headers(),
            name="done",
        )


class Organizer(HttpUser):
    """Changes the admission rate at the planned moments; watches sales."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        self.started = time.monotonic()
        self.plan = list(RATE_PLAN)
        self.headers = {
            "Authorization": f"Bearer {FIXTURE['organizer_bearer']}",
            "X-Forwarded-For": "192.0.2.1",
        }

    @task
    def run_the_sale(self) -> None:
        elapsed = (time.monotonic() - self.started) / DURATION
        if self.plan and elapsed >= self.plan[0][0]:
            _, rate = self.plan.pop(0)
            sent = int(time.time() * 1000)
            response = self.client.patch(
                f"/api/v1/organizer/events/{FIXTURE['event_id']}/waitingroom",
                json={"rate_per_minute": rate},
                headers=self.headers,
                name="organizer: change rate",
            )
            if response.status_code == 200:
                TALLY["rate_changes"].append([sent, int(time.time() * 1000), rate])
        self.client.get(
            f"/api/v1/organizer/events/{FIXTURE['event_id']}/live",
            headers=self.headers,
            name="organizer: live",
        )
        time.sleep(4)


_bot_addresses = itertools.cycle(["198.51.100.7", "198.51.100.8", "198.51.100.9"])
_bot_accounts = itertools.cycle(FIXTURE.get("bots", []) or [[0, "none"]])


class Bot(FastHttpUser):
    """Hammers join and hold from a handful of addresses."""

    fixed_count = int(os.environ.get("ONSALE_LOCUST_BOTS", "0"))
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        if not FIXTURE.get("bots"):
            raise StopUser()
        _, bearer = next(_bot_accounts)
        self.headers = {
            "Authorization": f"Bearer {bearer}",
            "X-Forwarded-For": next(_bot_addresses),
        }
        self.event_id = FIXTURE["event_id"]

    @task(3)
    def join(self) -> None:
        with self.client.post(
            f"/api/v1/events/{self.event_id}/queue",
            headers=self.headers,
            name="bot: join",
            catch_response=True,
        ) as response:
            TALLY["outcomes"][f"bot join {response.status_code}"] += 1
            if response.status_code in (200, 201, 429):
                response.success()
            else:
                response.failure(f"bot join {response.status_code}")

    @task(2)
    def hold(self) -> None:
        # No access token, or a made-up one: the platform must refuse both.
        headers = dict(self.headers)
        if random.random() < 0.5:
            headers["X-Access-Token"] = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."
        with self.client.post(
            f"/api/v1/events/{self.event_id}/holds",
            json={"category": "A", "quantity": 6},
            headers=headers,
            name="bot: hold",
            catch_response=True,
        ) as response:
            TALLY["outcomes"][f"bot hold {response.status_code}"] += 1
            if response.status_code == 201:
                TALLY["bot_holds_granted"] += 1
                response.failure("a bot was granted a hold")
            elif response.status_code in (401, 403, 429):
                response.success()
            else:
                response.failure(f"bot hold {response.status_code}")
