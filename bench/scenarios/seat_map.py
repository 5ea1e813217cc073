#!/usr/bin/env python
"""The seat map page with 50,000 seats on a throttled phone, in Chromium.

    .venv/bin/python bench/scenarios/seat_map.py              # ~2 minutes
    .venv/bin/python bench/scenarios/seat_map.py --no-nginx --pan-seconds 5
    .venv/bin/python bench/scenarios/seat_map.py --blocks 2 1     # 5,000 seats

Debian's Chromium (/usr/bin/chromium) driven by Playwright, at a phone's
viewport with the CPU four times slower and the network at 1.6 Mbit/s down,
150 ms round trip (onsale/testutils/seat_map_browser.py, shared with the
browser test tests/e2e/test_seat_map_large.py, so both print the same
figures), opens the seat page of a 50,000-seat event and prints:

- the time to the first full draw from navigation start, and the part of it
  after the map document arrived (the page's own work);
- frames per second while a finger pans the whole venue back and forth, then
  the same at a closer zoom (three presses of "+").

The page is served the way production serves it: nginx (gzip, static files)
in front of gunicorn with the production settings (bench/harness/stack.py:
a MySQL database and Redis key prefix of its own, removed at the end);
--no-nginx talks to gunicorn directly, as the browser tests do. Exit status 1
when the map did not draw every seat.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: the repository's `bench` package
    sys.path.insert(0, str(ROOT))

from bench.harness.stack import Stack, exit_on_sigterm  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-123"  # a throwaway account of this run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-nginx", action="store_true", help="gunicorn directly")
    parser.add_argument("--pan-seconds", type=float, default=3.0)
    parser.add_argument(
        "--blocks",
        type=int,
        nargs=2,
        default=(5, 4),
        metavar=("ACROSS", "DOWN"),
        help="blocks of 2,500 seats (default 5 x 4: 50,000 seats)",
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    exit_on_sigterm()
    stack = Stack(nginx=not args.no_nginx, celery_worker=False, workers=1, threads=8)
    with stack:
        os.environ.update(stack.env)
        import django

        django.setup()
        event_id, email, seats = _event_and_fan(*args.blocks)
        base = stack.origin if args.no_nginx else stack.proxy_url
        lines, drawn = _measure(base, event_id, email, seats, args.pan_seconds)
    print("\n".join(lines))
    if drawn != seats:
        print(f"the map drew {drawn} of {seats} seats", file=sys.stderr)
        return 1
    return 0


def _event_and_fan(across: int, down: int) -> tuple[int, str, int]:
    from django.utils import timezone

    from onsale.events.models import Event
    from onsale.seatselection.seatmaps.write import seatmap_replace
    from onsale.testutils.seat_map_browser import large_seat_map
    from onsale.usermgmt.models import Organization
    from onsale.usermgmt.services import users_bulk_create

    organization, _ = Organization.objects.get_or_create(name="Benchmark")
    now = timezone.now()
    event = Event.objects.create(
        organization=organization,
        name="Seat map benchmark",
        venue_name="Arena",
        onsale_at=now + timedelta(days=1),
        starts_at=now + timedelta(days=30),
        status=Event.Status.PUBLISHED,
    )
    seatmap = seatmap_replace(
        event=event, data=large_seat_map(sections_across=across, sections_down=down)
    )
    Event.objects.filter(pk=event.pk).update(onsale_at=now - timedelta(minutes=1))
    users_bulk_create(count=1, prefix=f"seatmap{os.getpid()}-", password=PASSWORD)
    return event.pk, f"seatmap{os.getpid()}-0@example.test", seatmap.seat_count


def _measure(
    base: str, event_id: int, email: str, seats: int, pan_seconds: float
) -> tuple[list[str], int]:
    from playwright.sync_api import sync_playwright

    from onsale.testutils import seat_map_browser

    seats_url = f"/events/{event_id}/seats"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            context = browser.new_context(base_url=base, **seat_map_browser.PHONE)
            context.set_default_timeout(120_000)
            page = context.new_page()
            page.goto(f"/login/?next={seats_url}")
            page.fill("#id_email", email)
            page.fill("#id_password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(f"{base}{seats_url}")
            seat_map_browser.seat_map_warm(base, event_id)
            cdp = context.new_cdp_session(page)
            # A first visit: nothing cached.
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            seat_map_browser.throttle(cdp)
            page.reload()
            page.locator(f'#seats-map[data-drawn="{seats}"]').wait_for()
            page.locator("#seats-status").filter(has_text="Choose seats").wait_for()
            draw = seat_map_browser.draw_figures(page)
            whole = seat_map_browser.pan_figures(page, cdp, seconds=pan_seconds)
            for _ in range(3):
                page.locator("#seats-zoom-in").click()
            page.wait_for_timeout(1000)
            close = seat_map_browser.pan_figures(page, cdp, seconds=pan_seconds)
        finally:
            browser.close()
    lines = seat_map_browser.figures_lines("seat map bench", draw, whole)
    zoomed = seat_map_browser.figures_lines("seat map bench, zoomed in", draw, close)
    lines.append(zoomed[-1])
    return lines, int(draw["drawn"])


if __name__ == "__main__":
    sys.exit(main())
