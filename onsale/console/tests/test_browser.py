"""The organizer console in a real browser: Debian's headless Chromium driven
by Playwright against gunicorn on a free 127.0.0.1 port.

An organizer logs in, creates an event with the compact seat-map form, sees
the preview, publishes it, opens the control room, changes the rate, sees the
change (and the audit entry), and pauses with a confirmation. A screenshot of
the control room is kept under artifacts/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from onsale.events.models import Event
from onsale.events.services import event_update
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory
from onsale.testutils.seats import SMALL_MAP
from onsale.testutils.timing import scaled
from onsale.usermgmt.models import AuditEntry
from onsale.waitingroom.models import WaitingRoomConfig
from tests.faults.local_http import answers_200, free_port

playwright_sync = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
PASSWORD = "correct-horse-battery-staple"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
    ),
]


@pytest.fixture
def server(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    """gunicorn serving this test run's database and Redis prefix (on
    ONSALE_TEST_SERVER_PORT when set, else on a free port)."""
    port = int(os.environ.get("ONSALE_TEST_SERVER_PORT") or 0) or free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{connection.settings_dict['NAME']}",
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "8",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    env.pop("ONSALE_PROMETHEUS_DIR_READY", None)
    stderr = tmp_path / "stderr"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + scaled(30)
        while not answers_200(f"{base}/healthz"):
            assert process.poll() is None, stderr.read_text()[-2000:]
            assert time.monotonic() < deadline, stderr.read_text()[-2000:]
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _utc_input(delta: timedelta) -> str:
    return (timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


def test_organizer_creates_an_event_and_steers_the_queue(server):
    organizer = OrganizerFactory()
    expect = playwright_sync.expect
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            # Chromium, gunicorn and the tests share the cores.
            page.set_default_timeout(scaled(30) * 1000)
            expect.set_options(timeout=scaled(30) * 1000)
            dialogs: list[str] = []

            def accept(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.accept()

            page.on("dialog", accept)

            # log in
            page.goto(f"{server}/login/?next=/organizer/")
            page.fill("#id_email", organizer.email)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/organizer/")

            # create an event with the (prefilled) compact seat-map form
            page.fill("#create-name", "Browser Gala")
            page.fill("#create-venue", "Test Hall")
            page.fill("#create-starts", _utc_input(timedelta(days=30)))
            page.fill("#create-onsale", _utc_input(timedelta(minutes=-5)))
            page.fill("#create-time-zone", "Europe/Madrid")
            page.click("#create-form button[type=submit]")
            page.wait_for_url(re.compile(r".*/organizer/events/\d+/$"))
            # (no ORM inside this block: Playwright runs an event loop here)
            match = re.search(r"/organizer/events/(\d+)/$", page.url)
            assert match is not None
            event_id = int(match.group(1))
            expect(page.locator("#seatmap-caption")).to_contain_text(
                "320 seats in 2 sections"
            )
            assert page.locator("#seatmap-preview circle").count() == 320

            # an invalid CSV is refused inline, naming line and column
            page.check("input[name=format][value=csv]")
            page.fill(
                "#seatmap-text",
                "section,row,seat,category,price\nS,A,1,A,10\nS,A,1,A,10\n",
            )
            page.click("#seatmap-form button[type=submit]")
            expect(page.locator("#seatmap-errors")).to_contain_text("line 3")
            expect(page.locator("#seatmap-errors")).to_contain_text("Nothing was saved")
            # (replacing the map it has was confirmed first, naming that map)
            assert any(
                "Replace this event's seat map? The current map (320 seats)" in message
                for message in dialogs
            )

            # the box holds the event's own map: uploading it as it is keeps
            # the same 320 seats (a new layout version), after a confirmation
            page.reload()
            expect(page.locator("#seatmap-label")).to_have_text(
                "Map (this event's current map)"
            )
            asked = len(dialogs)
            page.click("#seatmap-upload")
            expect(page.locator("#seatmap-saved")).to_have_text(
                "Saved: 320 seats (layout version 2)."
            )
            assert len(dialogs) == asked + 1
            expect(page.locator("#seatmap-preview circle")).to_have_count(320)

            # publish, then open the control room
            page.click("#edit-publish")
            expect(page.locator("#edit-status")).to_have_text("Published")
            page.goto(f"{server}/organizer/events/{event_id}/live")
            configured = settings.WAITINGROOM_DEFAULT_RATE_PER_MINUTE
            expect(page.locator("#n-rate_per_minute")).to_have_text(str(configured))
            # nothing sold: no sell-out estimate made up from the admission rate
            expect(page.locator("#n-sellout_eta_seconds")).to_have_text("no sales yet")

            # change the rate and see it live and in the audit log
            page.fill("#c-rate", str(configured + 77))
            page.click("#c-apply")
            expect(page.locator("#n-rate_per_minute")).to_have_text(
                str(configured + 77)
            )
            expect(page.locator("#audit-rows")).to_contain_text("waitingroom.update")
            expect(page.locator("#audit-rows")).to_contain_text(organizer.email)

            # pausing asks first
            page.click("#c-pause")
            expect(page.locator("#n-state")).to_have_text("paused")
            assert any("Pause admission" in message for message in dialogs)
            expect(page.locator("#live-chart polyline")).to_have_count(3)

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / "console-control-room.png"), full_page=True
            )
        finally:
            browser.close()

    event = Event.objects.get(pk=event_id)
    assert (event.name, event.organization_id) == (
        "Browser Gala",
        organizer.organization_id,
    )
    assert event.seats.count() == 320
    assert event.time_zone == "Europe/Madrid"
    actions = list(
        AuditEntry.objects.filter(event_id=event.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "event.create",
        "seatmap.replace",
        "seatmap.replace",
        "event.publish",
        "waitingroom.update",
        "waitingroom.update",
    ]
    config = WaitingRoomConfig.objects.get(event=event)
    assert (config.rate_per_minute, config.state) == (configured + 77, "paused")


PHONE = {"width": 360, "height": 740}

# The elements that stick out past the right edge, for the failure message.
OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((el) => !el.closest("[data-scroll]"))
  .slice(0, 8)
  .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className : "") +
    " right=" + Math.round(el.getBoundingClientRect().right))"""


def test_every_console_page_fits_a_360_px_phone(server):
    # given an organizer's event with a seat map, an audit log with long
    # entries, and a name that does not fit a phone's line
    organizer = OrganizerFactory()
    event = EventFactory(
        organization=organizer.organization,
        name="The Extraordinarily Long-Named Midsummer Philharmonic Gala Evening",
        venue_name="Grosses Festspielhaus und Konzertsaal am Stadtpark",
    )
    seatmap_replace(event=event, data=SMALL_MAP, actor=organizer)
    event_update(event=event, venue_name="Konzerthaus am Stadtpark", actor=organizer)
    pages = {
        "event list": "/organizer/",
        "event editor": f"/organizer/events/{event.pk}/",
        "control room": f"/organizer/events/{event.pk}/live",
    }
    widths: dict[str, tuple[int, list[str]]] = {}
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport=PHONE)
            page.set_default_timeout(30_000)
            expect = playwright_sync.expect
            expect.set_options(timeout=30_000)
            page.goto(f"{server}/login/?next=/organizer/")
            page.fill("#id_email", organizer.email)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/organizer/")
            for name, path in pages.items():
                page.goto(f"{server}{path}")
                if name == "event editor":
                    expect(page.locator("#seatmap-caption")).to_contain_text("80 seats")
                if name == "control room":
                    expect(page.locator("#audit-rows tr")).to_have_count(2)
                    expect(page.locator("#n-sellout_eta_seconds")).to_have_text(
                        "no sales yet"
                    )
                widths[name] = (
                    page.evaluate("document.documentElement.scrollWidth"),
                    page.evaluate(OVERFLOWING),
                )
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(
                    path=str(ARTIFACTS / f"console-360-{name.replace(' ', '-')}.png"),
                    full_page=True,
                )
        finally:
            browser.close()
    too_wide = {name: seen for name, seen in widths.items() if seen[0] > 360}
    assert not too_wide, too_wide
