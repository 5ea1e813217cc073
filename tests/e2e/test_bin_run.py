"""`./bin/run`, exactly as the README gives it, in a browser.

The stack is started by the script itself (web, worker, beat and the seat
stream through honcho, SQLite in its own var folder, the demo data), on free
ports and a Redis server of its own, with no nginx in front: whatever a browser
needs must come from gunicorn. Every page's styles and scripts must load
(compressed by collectstatic; debug mode keeps their plain names, the image
serves content-hashed ones), and the waiting-room page must
keep refreshing itself when its script cannot load.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from onsale.testutils.timing import scaled
from tests.e2e.conftest import ROOT, Fan, seat_map_ready, wait_until
from tests.faults.local_http import answers_200, free_port
from tests.faults.redis_server import RedisServer

DEMO_PASSWORD = "demo-password-123"
DEMO_SEATS = 5_000
# The demo's on-sale starts a few minutes after ./bin/run loads it; the
# purchase test moves it to a minute ago, as an organizer may, through the
# project's own services in the stack's own database.
ONSALE_NOW = """
from datetime import timedelta
from django.utils import timezone
from onsale.events.models import Event
from onsale.waitingroom.admission import waitingroom_config_ensure, waitingroom_live_config_push
event = Event.objects.get(name="Demo Arena Night")
onsale_at = timezone.now() - timedelta(minutes=1)
Event.objects.filter(pk=event.pk).update(onsale_at=onsale_at)
config = waitingroom_config_ensure(event_id=event.pk)
config.onsale_at = onsale_at
config.prequeue_opens_at = onsale_at - timedelta(hours=1)
config.version += 1
config.save()
waitingroom_live_config_push(config=config)
"""


@dataclass
class BinRun:
    url: str
    env: dict[str, str]

    def manage(self, *args: str) -> None:
        """`manage.py` as bin/run's own processes run it (its settings, its
        SQLite database, its Redis)."""
        env = {
            **self.env,
            "DJANGO_DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "onsale.config.settings",
            "ONSALE_PUBLIC_URL": self.url,
        }
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )


ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


@pytest.fixture(scope="module")
def bin_run(tmp_path_factory: Any) -> Iterator[BinRun]:
    folder = tmp_path_factory.mktemp("bin-run")
    redis_server = RedisServer()
    redis_server.start()
    port, stream_port = free_port(), free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        # bin/run's own defaults: SQLite in var/, its settings, debug mode.
        if name not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "CI")
        and not name.startswith(("ONSALE_", "PYTEST", "REDIS_"))
    }
    env.update(
        PORT=str(port),
        STREAM_PORT=str(stream_port),
        ONSALE_VAR_DIR=str(folder / "var"),
        STATIC_ROOT=str(folder / "static"),
        REDIS_URL=redis_server.url,
    )
    log = folder / "bin-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "run")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert process.poll() is None, log.read_text()[-4000:]
            return answers_200(f"{base}/readyz")

        wait_until(up, scaled(300), "./bin/run")
        yield BinRun(url=base, env=env)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        redis_server.stop()


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _demo_queue_path(base: str) -> str:
    _, _, body = _get(f"{base}/")
    found = re.search(r'href="(/events/\d+/queue)"', body.decode())
    assert found, "the home page links to no waiting room"
    return found.group(1)


def test_every_page_asset_is_served_compressed(bin_run):
    pages = ["/", _demo_queue_path(bin_run.url), "/login/"]
    assets: set[str] = set()
    for page in pages:
        status, _, body = _get(f"{bin_run.url}{page}")
        assert status == 200
        assets.update(ASSET.findall(body.decode()))
    assert any(path.endswith(".css") for path in assets)
    assert any(path.endswith(".js") for path in assets)
    for path in sorted(assets):
        status, headers, body = _get(
            f"{bin_run.url}{path}", **{"Accept-Encoding": "gzip"}
        )
        assert status == 200, path
        # Compressed once by collectstatic, not on every request.
        assert headers["Content-Encoding"] == "gzip", path
        assert "Cache-Control" in headers, path
        assert headers["Content-Type"].startswith(
            "text/css" if path.endswith(".css") else "text/javascript"
        ), path
        assert body


def test_the_site_printed_by_bin_run_works_in_a_browser(bin_run, browser):
    """Styled pages, scripts running, no failed request, for a demo fan."""
    fan = Fan(browser, bin_run.url, "phone", "bin-run")
    page = fan.page
    queue_path = _demo_queue_path(bin_run.url)
    page.goto(f"/login/?next={queue_path}")
    # The site's stylesheet applies: its colour custom property, its margin.
    assert (
        page.evaluate(
            "getComputedStyle(document.documentElement).getPropertyValue('--accent')"
        ).strip()
        == "#0b5cad"
    )
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    page.fill("#id_email", "fan@demo.onsale.test")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/events/\d+/queue$"))
    fan.shot("queue")
    # queue.js runs: it took over from the page's own refresh.
    page.wait_for_function(
        "document.getElementById('queue-refresh-note') === null"
        " || document.getElementById('queue-refresh-note').hidden"
    )
    fan.assert_clean()
    fan.context.close()


def test_queue_page_refreshes_itself_when_its_script_does_not_load(bin_run, browser):
    """The fallback is a plain meta refresh that the script cancels, not one
    inside <noscript> (which never runs when the script merely fails)."""
    queue_path = _demo_queue_path(bin_run.url)
    loads: dict[str, int] = {}
    contexts = []
    for label, block in (("blocked", True), ("running", False)):
        context = browser.new_context(base_url=bin_run.url)
        if block:
            context.route(
                re.compile(r".*/waitingroom/queue[^/]*\.js$"),
                lambda route: route.abort(),
            )
        page = context.new_page()
        loads[label] = 0

        def loaded(label: str = label) -> None:
            loads[label] += 1

        page.on("load", lambda _page, loaded=loaded: loaded())
        page.goto(queue_path)
        contexts.append((context, page))
    refresh = int(
        re.search(
            r'http-equiv="refresh" content="(\d+)"', contexts[0][1].content()
        ).group(1)
    )
    contexts[0][1].wait_for_timeout((refresh + 5) * 1000)
    assert loads["blocked"] >= 2  # it reloaded by itself
    assert loads["running"] == 1  # the script cancelled the refresh
    for context, _ in contexts:
        context.close()


def test_a_new_fan_buys_two_seats_on_the_site_bin_run_prints(bin_run, browser):
    """The whole purchase on a phone, against ./bin/run alone: sign up from
    the waiting room, join, be admitted, hold the best two seats, pay with the
    fake provider's test card, and get the tickets the worker issues."""
    from playwright.sync_api import expect

    bin_run.manage("shell", "-c", ONSALE_NOW)
    fan = Fan(browser, bin_run.url, "phone", "bin-run-purchase")
    page = fan.page
    queue_path = _demo_queue_path(bin_run.url)

    page.goto("/")
    page.get_by_role("link", name=re.compile(r"^Waiting room of ")).first.click()
    page.wait_for_url(f"{bin_run.url}{queue_path}")
    page.get_by_role("link", name="Sign up", exact=True).last.click()
    page.wait_for_url(re.compile(r".*/signup/\?next="))
    page.get_by_label("Email").fill("new-fan@bin-run.test")
    page.get_by_label("Name").fill("Ada Fan")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{bin_run.url}{queue_path}")
    page.get_by_role("button", name="Join the queue").click()

    page.wait_for_url(re.compile(r".*/events/\d+/seats$"), timeout=60_000)
    seat_map_ready(fan, DEMO_SEATS)
    fan.shot("seat-map")
    widths = {"seats": _page_width(page)}
    page.get_by_label("How many").fill("2")
    page.get_by_role("button", name="Find and hold the best seats").click()
    expect(page.locator("#seats-held-list li")).to_have_count(2)
    fan.shot("held")

    page.get_by_role("link", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/checkout/\d+/\d+/$"))
    expect(page.locator("table.lines tbody tr")).to_have_count(2)
    fan.shot("checkout")
    widths["checkout"] = _page_width(page)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    page.wait_for_url(re.compile(r".*/orders/\d+/\?placed=1$"), timeout=60_000)
    expect(page.locator(".notice").first).to_contain_text("Thank you!")
    # The worker ./bin/run started issues the tickets; the page refreshes.
    expect(page.locator("#tickets img")).to_have_count(2, timeout=120_000)
    fan.shot("tickets")
    widths["order"] = _page_width(page)
    # Every page fits the 360 px screen; nothing failed to load or logged an error.
    assert widths == {"seats": 360, "checkout": 360, "order": 360}, widths
    fan.assert_clean()
    fan.context.close()


def test_open_seat_pages_leave_the_site_answering(bin_run):
    """Without nginx the seat stream reaches gunicorn's threads: a dozen open
    seat pages must not take them all. Each process serves a few streams;
    the rest are refused (the page then polls) and the site keeps answering."""
    import http.client
    import json
    import time
    from urllib.parse import urlparse

    from onsale.testutils.timing import scaled

    event_path = _demo_queue_path(bin_run.url).removesuffix("/queue")
    address = urlparse(bin_run.url)
    streams, statuses, codes = [], [], []
    try:
        for _ in range(12):
            connection = http.client.HTTPConnection(
                address.hostname, address.port, timeout=scaled(15)
            )
            connection.request("GET", f"/api/v1{event_path}/seats/stream")
            response = connection.getresponse()
            statuses.append(response.status)
            if response.status == 503:
                codes.append(json.loads(response.read())["code"])
                connection.close()
            else:
                streams.append(connection)  # held open, as a seat page does
        started = time.monotonic()
        status, _, _ = _get(f"{bin_run.url}/readyz")
        answered_in = time.monotonic() - started
    finally:
        for connection in streams:
            connection.close()
    print(f"12 seat streams on ./bin/run: {statuses}; /readyz in {answered_in:.3f} s")
    # Two web processes of four threads: two streams each, at most.
    assert 1 <= statuses.count(200) <= 4, statuses
    assert set(codes) == {"seat_stream_busy"}, codes
    assert status == 200
    assert answered_in < scaled(5)
