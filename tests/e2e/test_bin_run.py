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
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Fan, wait_until
from tests.faults.local_http import answers_200, free_port
from tests.faults.redis_server import RedisServer

DEMO_PASSWORD = "demo-password-123"
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


@pytest.fixture(scope="module")
def bin_run(tmp_path_factory: Any) -> Iterator[str]:
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

        wait_until(up, 300, "./bin/run")
        yield base
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


def _demo_queue_path(base: str) -> str:
    _, _, body = _get(f"{base}/")
    found = re.search(r'href="(/events/\d+/queue)"', body.decode())
    assert found, "the home page links to no waiting room"
    return found.group(1)


def test_every_page_asset_is_served_compressed(bin_run):
    pages = ["/", _demo_queue_path(bin_run), "/login/"]
    assets: set[str] = set()
    for page in pages:
        status, _, body = _get(f"{bin_run}{page}")
        assert status == 200
        assets.update(ASSET.findall(body.decode()))
    assert any(path.endswith(".css") for path in assets)
    assert any(path.endswith(".js") for path in assets)
    for path in sorted(assets):
        status, headers, body = _get(f"{bin_run}{path}", **{"Accept-Encoding": "gzip"})
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
    fan = Fan(browser, bin_run, "phone", "bin-run")
    page = fan.page
    queue_path = _demo_queue_path(bin_run)
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
    queue_path = _demo_queue_path(bin_run)
    loads: dict[str, int] = {}
    contexts = []
    for label, block in (("blocked", True), ("running", False)):
        context = browser.new_context(base_url=bin_run)
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
