"""The fan's journey in a real browser against the real stack.

`stack` (one for the tests of this folder) starts gunicorn and a Celery worker on this
test run's MySQL database and Redis key prefix; the worker consumes the
broker keys the gunicorn publishes to, under a prefix of their own (outside
the run's key prefix, so the Redis flush between tests leaves the broker's
queue bindings alone). Payments go to the project's fake provider.

`browser` is Debian's Chromium driven by Playwright. `Fan` opens a browser
context at a viewport and watches every page it opens: a console error, an
uncaught exception, a failed request or a response >= 500 fails the test, as
does an error status the test did not announce with `fan.expect_error()`.
Each step's screenshot goes to artifacts/e2e/<viewport>/, and each page's
weight (bytes transferred, from Chromium's own network accounting) and first
paint to artifacts/e2e/page-weights.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from onsale.testutils.worker_command import worker_command
from tests.faults.local_http import answers_200, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "e2e"
PASSWORD = "correct-horse-battery-staple"  # the factories' password
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
# Generous: two cores are shared with other work.
TIMEOUT_MS = 30_000
WEIGHTS: dict[str, dict[str, dict[str, Any]]] = {}
# Lines of measured figures (the large seat map's) for the end of the output.
FIGURES: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)
            if not Path(CHROMIUM).exists():
                item.add_marker(
                    pytest.mark.skip(reason="Debian's chromium is not installed")
                )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if WEIGHTS:
        terminalreporter.write_sep("-", "page weight and first render (e2e)")
        for line in weight_lines():
            terminalreporter.write_line(line)
    if FIGURES:
        terminalreporter.write_sep("-", "seat map drawing and panning (e2e)")
        for line in FIGURES:
            terminalreporter.write_line(line)


def weight_lines() -> list[str]:
    lines = []
    for viewport, pages in sorted(WEIGHTS.items()):
        for name, figures in pages.items():
            lines.append(
                f"{viewport:8} {name:18} {figures['bytes'] / 1024:7.1f} KB"
                f" in {figures['requests']:2} requests,"
                f" first paint {figures['first_paint_ms']} ms,"
                f" first contentful paint {figures['first_contentful_paint_ms']} ms"
                + "".join(
                    f", {mark.split(':')[-1]} {at} ms"
                    for mark, at in figures.get("marks_ms", {}).items()
                )
            )
    return lines


def weight_record(viewport: str, name: str, figures: dict[str, Any]) -> None:
    WEIGHTS.setdefault(viewport, {})[name] = figures
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "page-weights.json"
    # Merge with what earlier runs of other tests wrote, so a partial run
    # (-k) does not drop the other pages' figures.
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    stored.setdefault(viewport, {})[name] = figures
    path.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")


# --- the stack -----------------------------------------------------------------


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Stack:
    """The running services; `url` is the main gunicorn."""

    env: dict[str, str]
    folder: Path
    url: str = ""
    processes: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list)
    servers: dict[tuple[tuple[str, str], ...], str] = field(default_factory=dict)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Any:
        log = self.folder / f"{name}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.processes.append((process, log))
        return process, log

    def server(self, **overrides: str) -> str:
        """A gunicorn on this stack (the same database, Redis and broker) with
        these extra environment variables (e.g. SEAT_HOLD_SECONDS); started
        once per set of overrides."""
        key = tuple(sorted(overrides.items()))
        if key in self.servers:
            return self.servers[key]
        port = free_port()
        env = {
            **self.env,
            **overrides,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            # The seat map's live stream holds a thread per open page.
            "WEB_THREADS": "24",
            "PROMETHEUS_MULTIPROC_DIR": str(self.folder / f"prometheus-{port}"),
        }
        process, log = self._spawn(
            f"gunicorn-{port}",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "tests.e2e.wsgi:application",
            ],
            env,
        )
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert process.poll() is None, log.read_text()[-3000:]
            return answers_200(f"{base}/healthz")

        wait_until(up, 60, "gunicorn")
        self.servers[key] = base
        return base

    def start_worker(self) -> None:
        process, log = self._spawn(
            "worker",
            worker_command(solo=True, loglevel="INFO"),
            self.env,
        )
        self._worker = (process, log)

    def wait_worker(self) -> None:
        process, log = self._worker

        def ready() -> bool:
            assert process.poll() is None, log.read_text()[-3000:]
            return "ready" in log.read_text()

        wait_until(ready, 120, "the Celery worker")

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="package")
def stack(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e-stack")
    (folder / "mail").mkdir()
    (folder / "media").mkdir()
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    broker_prefix = f"onsale-e2e-{os.getpid()}:broker:"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.testutils.worker_settings",
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{database}",
        "ONSALE_WORKER_DATABASE_NAME": database,
        "ONSALE_WORKER_EMAIL_DIR": str(folder / "mail"),
        "ONSALE_WORKER_MEDIA_ROOT": str(folder / "media"),
        "ONSALE_BROKER_KEY_PREFIX": broker_prefix,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "FAKE_PAYMENTS_LATENCY_MS": "0",
        "FAKE_PAYMENTS_FAULT_RATE": "0",
    }
    env.pop("ONSALE_PROMETHEUS_DIR_READY", None)
    running = Stack(env=env, folder=folder)
    try:
        running.start_worker()
        running.url = running.server()
        running.wait_worker()
        yield running
    finally:
        running.stop()
        from onsale.platform.redis import redis_client

        client = redis_client()
        keys = list(client.scan_iter(match=f"{broker_prefix}*", count=1000))
        if keys:
            client.unlink(*keys)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium. While Playwright's sync API runs, this thread has an
    event loop, so Django's guard against ORM calls from async code is lifted
    for the module (the calls here are plain synchronous test set-up)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            sync_api.expect.set_options(timeout=TIMEOUT_MS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --- one fan's browser -------------------------------------------------------------

FAILED_LOAD = re.compile(
    r"Failed to load resource: the server responded with a status of (\d+)"
)


class Fan:
    """One browser context (a device) at a viewport, and its open page."""

    def __init__(self, browser: Any, base_url: str, viewport: str, label: str) -> None:
        self.viewport = viewport
        self.label = label
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, **VIEWPORTS[viewport])
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        # Error responses the test provokes on purpose (`expect_error`).
        self.expected: list[tuple[int | None, str]] = []
        self.shots = 0
        self.folder = ARTIFACTS / viewport
        self.folder.mkdir(parents=True, exist_ok=True)
        # Per document load (CDP loaderId): bytes received and request count.
        self.loads: dict[str, dict[str, Any]] = {}
        self.loader_of: dict[str, str] = {}
        self.current_loader = ""
        self._watch()

    # -- checks --

    def expect_error(self, url_part: str, status: int | None = None) -> None:
        """Announce an error response the test provokes on purpose
        (status None: any 4xx)."""
        self.expected.append((status, url_part))

    def _allowed(self, status: int, url: str) -> bool:
        if status >= 500:
            return False
        return any(
            (wanted is None or wanted == status) and part in url
            for wanted, part in self.expected
        )

    def _watch(self) -> None:
        page = self.page

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            match = FAILED_LOAD.search(message.text)
            url = (message.location or {}).get("url", "")
            if match and self._allowed(int(match.group(1)), url):
                return
            self.problems.append(f"console error: {message.text} ({url})")

        def on_request_failed(request: Any) -> None:
            failure = request.failure or ""
            # A page that moves on cancels its open event stream and any call
            # still in flight; that is the browser's doing, not a failure.
            if failure == "net::ERR_ABORTED" and request.resource_type in (
                "eventsource",
                "fetch",
            ):
                return
            self.problems.append(
                f"request failed: {request.method} {request.url} {failure}"
            )

        def on_response(response: Any) -> None:
            if response.status >= 500:
                self.problems.append(
                    f"server error: {response.status} {response.request.method}"
                    f" {response.url}"
                )
            elif response.status >= 400 and not self._allowed(
                response.status, response.url
            ):
                self.problems.append(
                    f"unexpected {response.status}: {response.request.method}"
                    f" {response.url}"
                )

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)

        cdp = self.context.new_cdp_session(page)
        cdp.send("Network.enable")
        # Every page loads cold, as on a fan's first visit: the weights are
        # what a page costs with nothing cached.
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

        def will_send(event: dict[str, Any]) -> None:
            loader = event.get("loaderId", "")
            self.loader_of[event["requestId"]] = loader
            if event.get("type") == "Document" and event["requestId"] == loader:
                self.current_loader = loader
                self.loads[loader] = {"requests": 0, "urls": {}, "sizes": {}}
            load = self.loads.get(loader)
            if load is not None:
                load["requests"] += 1
                load["urls"][event["requestId"]] = event["request"]["url"]

        def received(event: dict[str, Any]) -> None:
            # Counts what came so far of a request still open (the live stream).
            request_id = event["requestId"]
            load = self.loads.get(self.loader_of.get(request_id, ""))
            if load is not None:
                sizes = load["sizes"]
                sizes[request_id] = sizes.get(request_id, 0) + int(
                    event.get("encodedDataLength", 0)
                )

        def finished(event: dict[str, Any]) -> None:
            # The whole request as received: headers and (encoded) body.
            request_id = event["requestId"]
            load = self.loads.get(self.loader_of.get(request_id, ""))
            if load is not None:
                load["sizes"][request_id] = int(event["encodedDataLength"])

        cdp.on("Network.requestWillBeSent", will_send)
        cdp.on("Network.dataReceived", received)
        cdp.on("Network.loadingFinished", finished)
        self.cdp = cdp

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)

    # -- steps --

    def shot(self, name: str) -> None:
        self.shots += 1
        self.page.screenshot(
            path=str(self.folder / f"{self.label}-{self.shots:02d}-{name}.png"),
            full_page=True,
        )

    def measure(self, name: str) -> dict[str, Any]:
        """The current document's weight so far (document, styles, scripts,
        images and the API calls it made) and its paint timings."""
        # A page that has not painted yet paints within a frame or two.
        self.wait_for_script(
            "() => performance.getEntriesByType('paint')"
            ".some(e => e.name === 'first-contentful-paint')",
            "the first contentful paint",
        )
        load = self.loads[self.current_loader]
        paints = self.page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('paint')"
            ".map(e => [e.name, Math.round(e.startTime)]))"
        )
        resources: dict[str, int] = {}
        for request_id, size in load["sizes"].items():
            path = "/" + load["urls"].get(request_id, "?").split("/", 3)[-1]
            resources[path] = resources.get(path, 0) + size
        figures = {
            "bytes": sum(resources.values()),
            "requests": load["requests"],
            "resources": resources,
            "first_paint_ms": paints.get("first-paint"),
            "first_contentful_paint_ms": paints.get("first-contentful-paint"),
            # The pages' own marks (the seat map marks when it is drawn).
            "marks_ms": self.page.evaluate(
                "Object.fromEntries(performance.getEntriesByType('mark')"
                ".map(e => [e.name, Math.round(e.startTime)]))"
            ),
        }
        weight_record(self.viewport, name, figures)
        return figures

    def wait_for_script(self, expression: str, what: str, target: Any = None) -> None:
        """Until `expression` (a function of `target`, or of nothing) is true in
        the page. Polled from here: Playwright's own wait_for_function builds
        its predicate with eval, which the site's CSP rightly refuses."""
        subject = target or self.page
        wait_until(lambda: subject.evaluate(expression), TIMEOUT_MS / 1000, what)

    def wait_for_status_poll(self) -> None:
        """Until the waiting room page has fetched the status document once."""
        self.wait_for_script(
            "() => performance.getEntriesByType('resource')"
            ".some(e => e.name.includes('/queue/status'))",
            "the first status poll",
        )

    def login(self, email: str, next_url: str) -> None:
        self.page.goto(f"/login/?next={next_url}")
        self.page.fill("#id_email", email)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("form.form button[type=submit]")
        self.page.wait_for_url(f"{self.base_url}{next_url}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def fans(browser: Any) -> Iterator[Callable[..., Fan]]:
    """Opens fans' browsers; each is checked and closed at the end of the test."""
    opened: list[Fan] = []

    def open_fan(base_url: str, viewport: str, label: str) -> Fan:
        fan = Fan(browser, base_url, viewport, label)
        opened.append(fan)
        return fan

    yield open_fan
    for fan in opened:
        fan.close()
    for fan in opened:
        fan.assert_clean()


# --- data ----------------------------------------------------------------------------

SMALL_MAP: dict[str, Any] = {
    "categories": [
        {"code": "A", "name": "Stalls", "price": "50.00", "color": "#0b5cad"},
        {"code": "B", "name": "Balcony", "price": "30.50", "color": "#6b3fa0"},
    ],
    "generate": [
        {"section": "Stalls", "rows": 5, "seats_per_row": 10, "category": "A"},
        {"section": "Balcony", "rows": 3, "seats_per_row": 10, "category": "B"},
    ],
}


def event_on_sale(
    *,
    organizer: Any,
    onsale_in: timedelta = timedelta(hours=-1),
    seatmap: dict[str, Any] | None = None,
) -> Any:
    """A published event of `organizer`'s organization with a seat map, its
    on-sale `onsale_in` from now (the pre-queue opens an hour before it)."""
    from onsale.events.models import Event
    from onsale.seatselection.seatmaps.write import seatmap_replace
    from onsale.testutils.factories import EventFactory
    from onsale.waitingroom.admission import (
        waitingroom_config_ensure,
        waitingroom_live_config_push,
    )

    now = timezone.now()
    event = EventFactory(
        organization=organizer.organization,
        name="Midnight Orchestra",
        venue_name="Harbour Hall",
        onsale_at=now + timedelta(minutes=10),
        starts_at=now + timedelta(days=30),
    )
    seatmap_replace(event=event, data=seatmap or SMALL_MAP)
    onsale_at = now + onsale_in
    Event.objects.filter(pk=event.pk).update(onsale_at=onsale_at)
    event.refresh_from_db()
    config = waitingroom_config_ensure(event_id=event.pk)
    config.onsale_at = onsale_at
    config.prequeue_opens_at = onsale_at - timedelta(hours=1)
    config.version += 1
    config.save()
    waitingroom_live_config_push(config=config)
    return event


def fan_on_seat_map(fan: Fan, event: Any, email: str) -> None:
    """Log in, join the open room's queue and ride the admission to the seat
    map (the room admits at once: its burst is larger than the queue)."""
    queue = f"/events/{event.pk}/queue"
    fan.login(email, queue)
    fan.page.click("#queue-join")
    fan.page.wait_for_url(f"{fan.base_url}/events/{event.pk}/seats")
    seat_map_ready(fan, event.seats.count())


def seat_map_ready(fan: Fan, seats: int) -> None:
    """Until the map has drawn all its `seats` at the whole-venue view, is live
    and says the fan may choose."""
    from playwright.sync_api import expect

    expect(fan.page.locator("#seats-map")).to_have_attribute("data-drawn", str(seats))
    expect(fan.page.locator("#seats-live")).to_have_text("Live.")
    expect(fan.page.locator("#seats-status")).to_contain_text("Choose seats")


def seat_point(page: Any, index: int) -> dict[str, float]:
    """Where seat `index` is on the screen (CSS pixels), as the page draws it."""
    point = page.evaluate("i => window.onsaleSeatMap.seatPoint(i)", index)
    assert point is not None, f"no seat {index}"
    return point


def seat_pick(fan: Fan, index: int) -> None:
    """Click (desktop) or tap (phone) seat `index` where the canvas shows it."""
    point = seat_point(fan.page, index)
    if fan.viewport == "phone":
        fan.page.touchscreen.tap(point["x"], point["y"])
    else:
        fan.page.mouse.click(point["x"], point["y"])


def seat_state(page: Any, index: int) -> str:
    """available, selected, taken or mine."""
    return str(page.evaluate("i => window.onsaleSeatMap.seatState(i)", index))


def seat_pixel(page: Any, index: int) -> tuple[int, int, int]:
    """The colour on the screen at seat `index` (left of its centre, clear of
    its number), once the map shows the current availability: read from a
    screenshot, so it is what the fan sees."""
    import io

    from PIL import Image

    wait_until(
        lambda: not page.evaluate("() => window.onsaleSeatMap.stats().pending"),
        TIMEOUT_MS / 1000,
        "the seat map to settle",
    )
    # Where the seat is inside the map box: the same whether the page scrolls
    # for the screenshot or not.
    inside = page.evaluate(
        """i => {
          const rect = document.getElementById("seats-map").getBoundingClientRect();
          const point = window.onsaleSeatMap.seatPoint(i);
          const radius = window.onsaleSeatMap.view().radius;
          const left = radius >= 4 ? radius * 0.7 : 0;
          return {x: point.x - left - rect.left, y: point.y - rect.top};
        }""",
        index,
    )
    ratio = page.evaluate("() => window.devicePixelRatio")
    png = page.locator("#seats-map").screenshot(scale="device", animations="disabled")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    at = (int(inside["x"] * ratio), int(inside["y"] * ratio))
    red, green, blue = image.getpixel(at)
    return (red, green, blue)


TAKEN_RGB = (0x87, 0x90, 0x9B)


def hex_rgb(color: str) -> tuple[int, int, int]:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def wait_for_seat_state(page: Any, index: int, state: str) -> None:
    wait_until(
        lambda: seat_state(page, index) == state,
        TIMEOUT_MS / 1000,
        f"seat {index} to be {state}",
    )
