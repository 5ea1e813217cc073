"""nginx/: the rendered configuration passes `nginx -t`, and nginx in front of
the real app (gunicorn started through the image's entry point) serves the
public status document from its one-second micro-cache, limits joins per real
client address, serves static files with the right cache lifetimes, and
passes the browser's Host with its port so forms pass Django's CSRF check."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.deploy.conftest import REPO, run, tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render(prefix: Path, **variables: str) -> None:
    result = run(
        ["sh", str(REPO / "nginx" / "render.sh"), str(prefix)],
        env={"PATH": os.environ["PATH"], **variables},
    )
    assert result.returncode == 0, result.stderr


def nginx_command(prefix: Path, *extra: str) -> list[str]:
    # -e: the early error log, before the configuration is read; the
    # distribution's default path is not writable for a non-root user.
    return [
        tool("nginx"),
        "-p",
        f"{prefix}/",
        "-c",
        "nginx.conf",
        "-e",
        "stderr",
        *extra,
    ]


def scratch_dir(name: str) -> Path:
    """A directory nginx's workers can enter: as root they run as an
    unprivileged user, and pytest's own temp dirs are private to the owner."""
    path = Path(tempfile.mkdtemp(prefix=f"onsale-{name}-"))
    path.chmod(0o755)
    return path


def test_the_shipped_configuration_passes_nginx_t():
    prefix = scratch_dir("nginx-t")
    try:
        render(prefix)  # the defaults, as shipped
        rendered = (prefix / "conf.d" / "onsale.conf").read_text()
        assert "${" not in rendered
        # nginx's own variables survive the rendering untouched.
        assert (
            "$binary_remote_addr" in rendered and "$upstream_cache_status" in rendered
        )
        result = run(nginx_command(prefix, "-t"))
        assert result.returncode == 0, result.stderr
        assert "test is successful" in result.stderr
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def test_nginx_t_rejects_a_broken_configuration():
    prefix = scratch_dir("nginx-bad")
    try:
        render(prefix)
        conf = prefix / "conf.d" / "onsale.conf"
        conf.write_text(
            conf.read_text().replace("proxy_cache_lock on;", "proxy_cache_lock maybe;")
        )
        result = run(nginx_command(prefix, "-t"))
        assert result.returncode == 1
        assert "proxy_cache_lock" in result.stderr
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


# --- nginx in front of the app ---------------------------------------------------


@dataclass
class Stack:
    origin: str
    origin_port: int
    proxy: str
    access_log: Path
    static_root: Path
    # The seat stream's own server (WEB_ASGI=true) and its output.
    stream_log: Path

    def origin_hits(self, path: str) -> int:
        """Requests for `path` gunicorn itself served: its access log, one
        JSON object a line (onsale.platform.observability.gunicorn.GunicornLogger). The line
        is written just after the response, so wait for the count to settle."""
        count, settled_at = -1, time.monotonic()
        while time.monotonic() - settled_at < 0.5:
            lines = (
                self.access_log.read_text().splitlines()
                if self.access_log.exists()
                else []
            )
            current = sum(1 for line in lines if json.loads(line).get("path") == path)
            if current != count:
                count, settled_at = current, time.monotonic()
            time.sleep(0.05)
        return count


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            # Only http://127.0.0.1 URLs this module builds.
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def stack(django_db_setup: object, django_db_blocker: Any) -> Iterator[Stack]:
    """gunicorn (the image's `web` command) on this run's test database and
    Redis prefix, and nginx in front of it with the repository's config;
    started once for the module. Every test that uses it also asks for
    `transactional_db`: what they create is committed (gunicorn sees it), and
    pytest-django, which runs transactional tests last, keeps them together
    so the stack starts only once."""
    work = scratch_dir("stack")
    static_root = work / "static"
    with django_db_blocker.unblock():
        db = connection.settings_dict
        database_url = (
            f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 3306}/{db['NAME']}"
        )
    app_port, proxy_port, stream_port = free_port(), free_port(), free_port()
    app_env = {
        "PATH": f"{Path(tool('python')).parent}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "ONSALE_VAR_DIR": str(work / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_ACCESS_LOG": str(work / "origin-access.log"),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "8",
        "ONSALE_STATIC_MANIFEST": "true",
        "STATIC_ROOT": str(static_root),
        # nginx is the one proxy in front: the client is one hop from the right.
        "TRUSTED_PROXY_COUNT": "1",
    }
    collected = run(
        [tool("python"), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=app_env,
    )
    assert collected.returncode == 0, collected.stderr
    app_log = work / "gunicorn.log"
    with app_log.open("wb") as log:
        app = subprocess.Popen(
            ["sh", str(REPO / "docker" / "entrypoint.sh"), "web"],
            env=app_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # The seat stream service: the same command as ASGI, as in Kubernetes.
    stream_log = work / "stream.log"
    with stream_log.open("wb") as log:
        stream = subprocess.Popen(
            ["sh", str(REPO / "docker" / "entrypoint.sh"), "web"],
            env={
                **app_env,
                "GUNICORN_BIND": f"127.0.0.1:{stream_port}",
                "GUNICORN_ACCESS_LOG": str(work / "stream-access.log"),
                "WEB_ASGI": "true",
                "ONSALE_SERVICE": "seatstream",
                "WEB_CONCURRENCY": "1",
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    prefix = work / "nginx"
    render(
        prefix,
        ONSALE_UPSTREAM=f"127.0.0.1:{app_port}",
        ONSALE_STREAM_UPSTREAM=f"127.0.0.1:{stream_port}",
        NGINX_LISTEN=f"127.0.0.1:{proxy_port}",
        # The test client plays the load balancer.
        NGINX_REAL_IP_FROM="127.0.0.1/32",
        ONSALE_STATIC_ROOT=str(static_root),
        ONSALE_MEDIA_ROOT=str(work / "media"),
    )
    proxy_log = work / "nginx.log"
    with proxy_log.open("wb") as log:
        proxy = subprocess.Popen(
            nginx_command(prefix, "-g", "daemon off;"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{app_port}/healthz", app, app_log)
        wait_until_up(f"http://127.0.0.1:{stream_port}/healthz", stream, stream_log)
        wait_until_up(f"http://127.0.0.1:{proxy_port}/healthz", proxy, proxy_log)
        yield Stack(
            origin=f"http://127.0.0.1:{app_port}",
            origin_port=app_port,
            proxy=f"http://127.0.0.1:{proxy_port}",
            access_log=work / "origin-access.log",
            static_root=static_root,
            stream_log=stream_log,
        )
    finally:
        stop(proxy)
        stop(stream)
        stop(app)
        shutil.rmtree(work, ignore_errors=True)


def get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    # Only http://127.0.0.1 URLs this module builds.
    request = urllib.request.Request(url, headers=headers or {}, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def burst(url: str, seconds: float, clients: int) -> list[tuple[int, str]]:
    """`clients` pollers each fetching `url` back to back for `seconds`."""
    results: list[tuple[int, str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def poll() -> None:
        while time.monotonic() < deadline:
            status, headers, _ = get(url)
            with lock:
                results.append((status, headers.get("X-Cache-Status", "")))

    threads = [threading.Thread(target=poll) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    return results


def test_status_polls_are_served_from_the_micro_cache(
    stack: Stack, transactional_db: object
):
    from onsale.testutils.factories import EventFactory

    event = EventFactory()
    path = f"/api/v1/events/{event.pk}/queue/status"

    # Control: straight to gunicorn, every poll is a hit on the origin.
    for _ in range(20):
        assert get(stack.origin + path)[0] == 200
    assert stack.origin_hits(path) == 20

    # Through nginx: a burst of pollers for 4 seconds.
    seconds = 4.0
    results = burst(stack.proxy + path, seconds, clients=8)
    origin = stack.origin_hits(path) - 20
    statuses = {status for status, _ in results}
    assert statuses == {200}
    assert len(results) >= 200, len(results)
    # About one origin request per second of polling (one more for the first
    # miss and one for a refresh straddling the end).
    assert 2 <= origin <= seconds + 2, (origin, len(results))
    cache = {state for _, state in results}
    assert cache <= {"MISS", "HIT", "UPDATING", "STALE", "EXPIRED"}
    assert "HIT" in cache
    print(f"{len(results)} polls through nginx in {seconds:.0f} s, origin saw {origin}")


def test_status_answers_carry_no_cookie_and_the_same_document(
    stack: Stack, transactional_db: object
):
    from onsale.testutils.factories import EventFactory

    event = EventFactory()
    path = f"/api/v1/events/{event.pk}/queue/status"
    first = get(stack.proxy + path, {"Cookie": "sessionid=someone-else"})
    second = get(stack.proxy + path)
    assert first[0] == second[0] == 200, (first, second)
    assert first[2] == second[2]
    assert "Set-Cookie" not in first[1] and "Set-Cookie" not in second[1]


def test_join_is_limited_per_real_client_address(
    stack: Stack, transactional_db: object
):
    from onsale.testutils.factories import EventFactory

    event = EventFactory()
    path = f"/api/v1/events/{event.pk}/queue"
    started = time.monotonic()
    one_client = [
        get(
            stack.proxy + path,
            {"X-Forwarded-For": "203.0.113.7", "Content-Type": "application/json"},
            "POST",
        )
        for _ in range(40)
    ]
    elapsed = time.monotonic() - started
    limited = [response for response in one_client if response[0] == 429]
    # burst=20 with nodelay and 5 more per second: at most 21 pass at once,
    # plus what the zone refilled while the loop ran.
    allowed = 21 + int(5 * elapsed) + 1
    assert max(1, 40 - allowed) <= len(limited) <= 19, [r[0] for r in one_client]
    # Every answer before the first cut went to the app (401: not signed in).
    first_cut = next(i for i, r in enumerate(one_client) if r[0] == 429)
    assert first_cut >= 21 and {r[0] for r in one_client[:first_cut]} == {401}
    assert b'"code": "rate_limited"' in limited[0][2]
    assert limited[0][1]["Retry-After"] == "1"
    # The origin never saw the cut ones.
    assert stack.origin_hits(path) == 40 - len(limited)
    # Forty different clients behind the same balancer: none is limited.
    many_clients = [
        get(
            stack.proxy + path,
            {"X-Forwarded-For": f"198.51.100.{n}", "Content-Type": "application/json"},
            "POST",
        )[0]
        for n in range(40)
    ]
    assert 429 not in many_clients, many_clients


def test_static_files_hashed_cached_for_a_year_others_for_an_hour(
    stack: Stack, transactional_db: object
):
    hashed = next((stack.static_root / "onsale").glob("site.*.css")).name
    status, headers, body = get(
        f"{stack.proxy}/static/onsale/{hashed}", {"Accept-Encoding": "gzip"}
    )
    assert status == 200 and body
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    status, headers, _ = get(f"{stack.proxy}/static/onsale/site.css")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=3600"


def test_the_image_healthcheck_asks_the_web_server(
    stack: Stack, transactional_db: object
):
    healthcheck = [tool("python"), str(REPO / "docker" / "healthcheck.py")]
    base = {"PATH": os.environ["PATH"], "ONSALE_HEALTHCHECK": "on"}
    assert (
        run(healthcheck, env={**base, "PORT": str(stack.origin_port)}).returncode == 0
    )
    nobody_there = run(healthcheck, env={**base, "PORT": str(free_port())})
    assert nobody_there.returncode == 1
    assert "healthz unreachable" in nobody_there.stderr
    # A worker or beat container has no web server: healthy while it runs.
    worker = {
        "PATH": os.environ["PATH"],
        "ONSALE_HEALTHCHECK": "off",
        "PORT": str(free_port()),
    }
    assert run(healthcheck, env=worker).returncode == 0


def test_the_seat_stream_goes_unbuffered_to_the_asgi_server(
    stack: Stack, transactional_db: object
):
    """nginx sends the seat stream to the seat stream service, not gunicorn's
    threads, and passes each event on as it comes (a buffered stream would
    deliver nothing until it ended)."""
    import http.client

    from onsale.seatselection import selectors
    from onsale.seatselection.seatmaps.write import seatmap_replace
    from onsale.testutils.factories import EventFactory
    from onsale.testutils.seats import SMALL_MAP, hold, seat_ids

    event = EventFactory()
    seatmap_replace(event=event, data=SMALL_MAP)
    selectors.availability_snapshot(event_id=event.pk)
    path = f"/api/v1/events/{event.pk}/seats/stream"
    host, port = stack.proxy.removeprefix("http://").split(":")
    client = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        client.request("GET", path, headers={"Accept": "text/event-stream"})
        response = client.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"

        def next_event() -> tuple[str, dict[str, Any]]:
            fields: dict[str, str] = {}
            while True:
                line = response.readline().decode().rstrip("\n")
                if not line and "event" in fields:
                    return fields["event"], json.loads(fields["data"])
                if ": " in line and not line.startswith(":"):
                    name, value = line.split(": ", 1)
                    fields[name] = value

        kind, hello = next_event()
        assert kind == "hello"
        started = time.monotonic()
        held = hold(event.pk, 1, "s1", seat_ids=seat_ids(event)[:1])
        kind, change = next_event()
        elapsed = time.monotonic() - started
    finally:
        client.close()

    assert kind == "change"
    assert change["v"] == held.version == hello["version"] + 1
    assert elapsed < 5, elapsed
    # The seat stream service wrote the request's log line; gunicorn's
    # threaded server never saw it.
    served_by_stream = [
        json.loads(line)
        for line in stack.stream_log.read_text().splitlines()
        if line.startswith("{") and '"onsale.request"' in line
    ]
    assert [
        (entry["path"], entry["service"])
        for entry in served_by_stream
        if entry["path"] != "/healthz"  # the fixture's wait for it to start
    ] == [(path, "onsale-seatstream")]
    assert stack.origin_hits(path) == 0


def test_only_the_seat_map_upload_may_send_more_than_a_megabyte(
    stack: Stack, transactional_db: object
):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"

    def put(path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1, this module's)
            stack.proxy + path,
            data=body,
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # nginx lets 2 MB through to the seat-map upload, where Django asks who
    # is sending it (nobody signed in here) ...
    status, answer = put("/api/v1/organizer/events/1/seatmap")
    assert status in (401, 403), answer[:200]
    # ... and refuses it anywhere else before the application sees it
    status, _ = put("/api/v1/organizer/events/1/waitingroom")
    assert status == 413


def test_a_form_posted_through_nginx_on_another_port_passes_the_csrf_check(
    stack: Stack, transactional_db: object
):
    """A browser in front of nginx on a port other than 80/443 (the README's
    recipe, 8080) sends `Host` and `Origin` with that port; Django compares the
    two, so nginx must pass the port on or every form is a CSRF 403."""
    import http.client
    import re
    from urllib.parse import urlencode

    from onsale.testutils.factories import UserFactory

    fan = UserFactory(password="correct-horse-battery-staple")
    host, port = stack.proxy.removeprefix("http://").split(":")
    origin = f"http://{host}:{port}"

    def request(
        method: str, path: str, body: str | None = None, **headers: str
    ) -> tuple[int, dict[str, str], str]:
        # http.client sends Host with the port, as a browser does, and does not
        # follow redirects, so the sign-in's own answer is what we see.
        client = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            client.request(method, path, body=body, headers=headers)
            response = client.getresponse()
            cookies = {
                value.split("=", 1)[0]: value.split("=", 1)[1].split(";", 1)[0]
                for name, value in response.getheaders()
                if name.lower() == "set-cookie"
            }
            return response.status, cookies, response.read().decode()
        finally:
            client.close()

    status, cookies, page = request("GET", "/login/")
    assert status == 200, page[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None and "csrftoken" in cookies
    status, _, answer = request(
        "POST",
        "/login/",
        urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "email": fan.email,
                "password": "correct-horse-battery-staple",
            }
        ),
        **{
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Origin": origin,
            "Referer": f"{origin}/login/",
        },
    )
    # Signed in and sent on, not refused by the CSRF check.
    assert status == 302, answer[:500]


def test_forty_sign_ins_from_one_address_all_pass(
    stack: Stack, transactional_db: object
):
    """Fans behind one address (a NAT) sign in at the same moment: nginx's
    edge limit sheds floods only, and the app counts failures, not sign-ins."""
    from onsale.testutils.factories import UserFactory

    fans = [UserFactory(password="correct-horse-battery-staple") for _ in range(40)]
    statuses = [
        get_with_body(
            stack.proxy + "/api/v1/auth/login",
            json.dumps(
                {"email": fan.email, "password": "correct-horse-battery-staple"}
            ).encode(),
            {"X-Forwarded-For": "100.64.7.7", "Content-Type": "application/json"},
        )
        for fan in fans
    ]
    assert statuses == [200] * 40, statuses


def get_with_body(url: str, body: bytes, headers: dict[str, str]) -> int:
    # Only http://127.0.0.1 URLs this module builds.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
