"""The seat map page measured in Chromium on a throttled phone, shared by the
browser test (tests/e2e/test_seat_map_large.py) and the benchmark
(bench/scenarios/seat_map.py), so both print the same figures.

The profile: a 360 x 740 touch screen at two device pixels per CSS pixel, the
CPU slowed four times (`Emulation.setCPUThrottlingRate`) and the network at
1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip
(`Network.emulateNetworkConditions`), as Chromium's DevTools do.

Figures (printed, never asserted: they depend on the machine):
- time to first full draw: navigation start to the map's first frame with
  every seat drawn (the page's `onsale:seat-map-drawn` mark), and the part of
  it after the map document arrived (the page's own work);
- the first frame with availability (`onsale:seat-map-live`);
- frames per second while one finger pans the map back and forth (touch
  events through CDP, one every 16 ms), counted by requestAnimationFrame,
  with the longest gap between two frames and how often the venue picture
  was rendered again.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
CPU_SLOWDOWN = 4
DOWNLOAD_BITS = 1_600_000
UPLOAD_BITS = 750_000
ROUND_TRIP_MS = 150


def large_seat_map(
    *, sections_across: int = 5, sections_down: int = 4
) -> dict[str, Any]:
    """A venue of sections_across x sections_down blocks of 50 rows of 50
    seats (50,000 seats by default) in four price categories."""
    categories = [
        {"code": "P1", "name": "Front", "price": "120.00", "color": "#a4161a"},
        {"code": "P2", "name": "Lower", "price": "80.00", "color": "#0b5cad"},
        {"code": "P3", "name": "Upper", "price": "55.00", "color": "#1f7a36"},
        {"code": "P4", "name": "Top", "price": "35.00", "color": "#7b2cbf"},
    ]
    generate = []
    for down in range(sections_down):
        for across in range(sections_across):
            generate.append(
                {
                    "section": f"Block {chr(65 + down)}{across + 1}",
                    "rows": 50,
                    "seats_per_row": 50,
                    "category": categories[down % len(categories)]["code"],
                    "origin": {"x": across * 54, "y": down * 54},
                }
            )
    # A map may not name a category no seat has.
    return {"categories": categories[: min(sections_down, 4)], "generate": generate}


def seat_map_warm(base_url: str, event_id: int) -> None:
    """Ask for the map document once, so the figures are those of a fan after
    the first (whose request builds the cached document on the server)."""
    import urllib.request

    url = f"{base_url}/api/v1/events/{event_id}/seats"
    assert url.startswith("http://127.0.0.1:"), url  # the local stack only
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        response.read()


def throttle(cdp: Any) -> None:
    """The phone profile's CPU and network on the page of this CDP session."""
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": ROUND_TRIP_MS,
            "downloadThroughput": DOWNLOAD_BITS / 8,
            "uploadThroughput": UPLOAD_BITS / 8,
        },
    )


def unthrottle(cdp: Any) -> None:
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        },
    )


def draw_figures(page: Any) -> dict[str, Any]:
    """Milliseconds from navigation start to the first full draw and to the
    first live frame, and the map document's transfer (bytes, when it
    finished arriving)."""
    return dict(
        page.evaluate(
            """() => {
              const mark = name => {
                const found = performance.getEntriesByName(name, "mark");
                return found.length ? Math.round(found[0].startTime) : null;
              };
              const document = performance.getEntriesByType("resource")
                .filter(e => /\\/api\\/v1\\/events\\/\\d+\\/seats$/.test(e.name))[0];
              const drawn = mark("onsale:seat-map-drawn");
              const parsed = mark("onsale:seat-map-parsed");
              const built = mark("onsale:seat-map-built");
              const arrived = document ? Math.round(document.responseEnd) : null;
              return {
                first_draw_ms: drawn,
                live_draw_ms: mark("onsale:seat-map-live"),
                map_requested_ms: document ? Math.round(document.requestStart) : null,
                map_first_byte_ms: document ? Math.round(document.responseStart) : null,
                map_arrived_ms: arrived,
                parse_ms: parsed !== null && arrived !== null ? parsed - arrived : null,
                build_ms: built !== null && parsed !== null ? built - parsed : null,
                render_ms: window.onsaleSeatMap.stats().firstRenderMs,
                draw_after_map_ms: drawn !== null && arrived !== null ? drawn - arrived : null,
                map_bytes: document ? document.transferSize : null,
                map_body_bytes: document ? document.decodedBodySize : null,
                seats: window.onsaleSeatMap.seatCount(),
                drawn: window.onsaleSeatMap.stats().drawn,
              };
            }"""
        )
    )


def _touch(cdp: Any, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send(
        "Input.dispatchTouchEvent",
        {
            "type": kind,
            "touchPoints": [
                {"x": x, "y": y, "id": number} for number, (x, y) in enumerate(points)
            ],
        },
    )


def map_centre(page: Any) -> tuple[float, float]:
    box = page.locator("#seats-map").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def pan_figures(page: Any, cdp: Any, *, seconds: float = 3.0) -> dict[str, Any]:
    """One finger pans the map left and right for `seconds`; frames per
    second meanwhile, as requestAnimationFrame saw them."""
    x, y = map_centre(page)
    page.evaluate(
        """() => {
          window.onsalePanFrames = [];
          window.onsalePanStop = false;
          const loop = now => {
            window.onsalePanFrames.push(now);
            if (!window.onsalePanStop) { requestAnimationFrame(loop); }
          };
          requestAnimationFrame(loop);
        }"""
    )
    before = page.evaluate("() => window.onsaleSeatMap.stats()")
    _touch(cdp, "touchStart", [(x, y)])
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds:
        step += 1
        # 200 px either way (past the picture rendered around the view), a
        # full swing a second.
        offset = 200 * math.sin(step * 16 / 1000 * 2 * math.pi)
        _touch(cdp, "touchMove", [(x + offset, y + offset / 3)])
        time.sleep(max(0.0, started + step * 0.016 - time.monotonic()))
    _touch(cdp, "touchEnd", [])
    elapsed = time.monotonic() - started
    frames = page.evaluate(
        "() => { window.onsalePanStop = true; return window.onsalePanFrames; }"
    )
    after = page.evaluate("() => window.onsaleSeatMap.stats()")
    gaps = [later - earlier for earlier, later in itertools.pairwise(frames)]
    span_ms = frames[-1] - frames[0] if len(frames) > 1 else 0
    return {
        "pan_seconds": round(elapsed, 2),
        "moves": step,
        "frames": len(frames),
        "fps": round((len(frames) - 1) * 1000 / span_ms, 1) if span_ms else 0.0,
        "longest_frame_ms": round(max(gaps), 1) if gaps else None,
        "map_frames": after["frames"] - before["frames"],
        "map_renders": after["renders"] - before["renders"],
        "longest_render_ms": after["longestRenderMs"],
        "mode": after["mode"],
    }


def pinch(cdp: Any, page: Any, *, spread: float, steps: int = 12) -> None:
    """Two fingers around the map's centre move apart (`spread` > 1) or
    together, as a pinch."""
    x, y = map_centre(page)
    near = 30.0
    _touch(cdp, "touchStart", [(x - near, y), (x + near, y)])
    for step in range(1, steps + 1):
        apart = near * (1 + (spread - 1) * step / steps)
        _touch(cdp, "touchMove", [(x - apart, y), (x + apart, y)])
        time.sleep(0.02)
    _touch(cdp, "touchEnd", [])


def figures_lines(label: str, draw: dict[str, Any], pan: dict[str, Any]) -> list[str]:
    kilobytes = (draw["map_bytes"] or 0) / 1024
    body = (draw["map_body_bytes"] or 0) / 1024
    return [
        f"[{label}] {draw['seats']:,} seats, throttled phone"
        f" (CPU x{CPU_SLOWDOWN}, {DOWNLOAD_BITS / 1e6:g} Mbit/s, {ROUND_TRIP_MS} ms RTT)",
        f"[{label}] first full draw {draw['first_draw_ms']} ms after navigation start,"
        f" {draw['draw_after_map_ms']} ms of it after the map document arrived"
        f" (JSON parse {draw['parse_ms']} ms, arrays {draw['build_ms']} ms,"
        f" first render {draw['render_ms']} ms); first live frame"
        f" {draw['live_draw_ms']} ms",
        f"[{label}] map document: asked at {draw['map_requested_ms']} ms, first byte"
        f" {draw['map_first_byte_ms']} ms, complete {draw['map_arrived_ms']} ms;"
        f" {kilobytes:.0f} KB transferred, {body:.0f} KB JSON",
        f"[{label}] pan: {pan['fps']} frames/s over {pan['pan_seconds']} s"
        f" ({pan['frames']} frames, longest {pan['longest_frame_ms']} ms,"
        f" {pan['map_frames']} map frames, {pan['map_renders']} venue renders,"
        f" the longest so far {pan['longest_render_ms']} ms, {pan['mode']} mode)",
    ]
