"""The live seat stream served the production way: gunicorn with uvicorn's
worker (the image's `web` command with WEB_ASGI=true) on this run's test
database and Redis prefix, spoken to over real sockets.

One worker holds hundreds of open streams on one Redis subscription, every
stream gets a change published after it connected, an ordinary request to the
same worker still answers at once, a client that went away is forgotten, and a
client that comes back catches up from the snapshot. The control: the same
streams against gunicorn's threaded (WSGI) worker starve it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from onsale.platform.redis import redis_client
from onsale.seatselection import selectors
from onsale.seatselection.keys import seat_changes_channel
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.seatselection.streams import STREAM_DATABASE_THREADS
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import SMALL_MAP, hold, seat_ids
from onsale.testutils.timing import (
    gather_while_progressing,
    machine_slowness,
    scaled,
)

REPO = Path(__file__).resolve().parents[3]
STREAMS = 200

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# --- the server -------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def threads(self, pid: int) -> int:
        return len(os.listdir(f"/proc/{pid}/task"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 3306}/{db['NAME']}"
    )


def _start(work: Path, **env: str) -> Server:
    """The image's `web` command with one worker, on a free port."""
    port = _free_port()
    log = work / f"server-{port}.log"
    server_env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
        "REDIS_CLUSTER": str(settings.REDIS_CLUSTER).lower(),
        "CACHE_REDIS_URL": settings.CACHE_REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "ONSALE_VAR_DIR": str(work / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "SEAT_STREAM_HEARTBEAT_SECONDS": "1",
        "SEAT_STREAM_MAX_SECONDS": "120",
        **env,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["sh", str(REPO / "docker" / "entrypoint.sh"), "web"],
            cwd=REPO,
            env=server_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(port=port, process=process, log=log)
    deadline = time.monotonic() + scaled(30)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()[-3000:]}")
        status, _ = asyncio.run(_get(port, "/healthz", timeout=1))
        if status == 200:
            return server
        time.sleep(0.2)
    _stop(server)
    pytest.fail(f"the server did not come up:\n{log.read_text()[-3000:]}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@pytest.fixture
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="onsale-stream-"))
    yield path
    for child in sorted(path.rglob("*"), reverse=True):
        if child.is_file():
            child.unlink()
        else:
            child.rmdir()
    path.rmdir()


@pytest.fixture
def asgi_server(work: Path) -> Iterator[Server]:
    server = _start(work, WEB_ASGI="true")
    yield server
    _stop(server)


# --- a small HTTP/1.1 client: plain requests and server-sent event streams ---------


async def _get(
    port: int, path: str, timeout: float = 5
) -> tuple[int | None, dict[str, Any]]:
    """(status, JSON body) of a GET; (None, {}) when nothing answers in time."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                await writer.drain()
                raw = await reader.read()
            finally:
                writer.close()
    except (TimeoutError, OSError):
        return None, {}
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    try:
        return status, json.loads(body) if body else {}
    except ValueError:
        return status, {}


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


class Stream:
    """One open `.../seats/stream`: its status, headers and events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.status = 0
        self.headers: dict[str, str] = {}
        self.buffer = ""

    @classmethod
    async def open(cls, port: int, event_id: int) -> Stream:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/v1/events/{event_id}/seats/stream HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        stream = cls(reader, writer)
        status_line = await reader.readline()
        stream.status = int(status_line.split(b" ", 2)[1])
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            stream.headers[name.strip().lower()] = value.strip()
        return stream

    async def event(self, timeout: float | None = 10) -> tuple[str, dict[str, Any]]:
        """The next event (comments and the retry line are skipped); None
        waits for as long as the caller does."""
        async with asyncio.timeout(timeout):
            while True:
                while "\n\n" in self.buffer:
                    block, self.buffer = self.buffer.split("\n\n", 1)
                    fields = dict(
                        line.split(": ", 1)
                        for line in block.split("\n")
                        if line and not line.startswith(":") and ": " in line
                    )
                    if "event" in fields:
                        return fields["event"], json.loads(fields["data"])
                size_line = await self.reader.readline()
                if not size_line.strip() or int(size_line.strip(), 16) == 0:
                    raise EOFError("the stream ended")
                size = int(size_line.strip(), 16)
                self.buffer += (await self.reader.readexactly(size)).decode()
                await self.reader.readexactly(2)

    async def change(self, timeout: float | None = 10) -> dict[str, Any]:
        while True:
            kind, data = await self.event(timeout)
            if kind == "change":
                return data

    def close(self) -> None:
        self.writer.close()


def _subscribers(event_id: int) -> int:
    """Redis connections subscribed to the event's change channel."""
    ((_, count),) = redis_client().pubsub_numsub(seat_changes_channel(event_id))
    return int(count)


async def _until(check: Any, timeout: float = 10) -> bool:
    """Polls `check` for `timeout` seconds of an idle machine (scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


def _database_connections() -> int:
    """Connections to this run's test database, from any process."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s",
            [connection.settings_dict["NAME"]],
        )
        (count,) = cursor.fetchone()
    connections["default"].close()
    return int(count)


def _seated_event() -> Any:
    event = EventFactory()
    seatmap_replace(event=event, data=SMALL_MAP)
    selectors.availability_snapshot(event_id=event.pk)  # Redis state built
    return event


# --- the tests ----------------------------------------------------------------------


def test_one_worker_serves_hundreds_of_streams_and_still_answers(asgi_server):
    event = _seated_event()
    ids = seat_ids(event)
    (worker,) = asgi_server.worker_pids()
    threads_before = asgi_server.threads(worker)

    # One worker answers every stream (a database check each, through a few
    # shared threads): on a busy machine that takes a while, so the test waits
    # as long as streams keep being served and fails only when they stop.
    stall = scaled(30)

    async def scenario() -> dict[str, Any]:
        streams = await gather_while_progressing(
            (Stream.open(asgi_server.port, event.pk) for _ in range(STREAMS)),
            stall_seconds=stall,
            what="streams opened",
        )
        hellos = await gather_while_progressing(
            (stream.event(timeout=None) for stream in streams),
            stall_seconds=stall,
            what="streams that sent hello",
        )
        figures: dict[str, Any] = {"hellos": hellos}
        figures["statuses"] = {stream.status for stream in streams}
        figures["content_types"] = {s.headers["content-type"] for s in streams}
        figures["caching"] = {
            (s.headers["cache-control"], s.headers["x-accel-buffering"])
            for s in streams
        }
        figures["subscribers"] = _subscribers(event.pk)
        figures["database_connections"] = await asyncio.to_thread(_database_connections)
        # The request threads were told to end once the streams started; on a
        # busy machine they may take a moment to be scheduled and exit.
        await _until(lambda: asgi_server.threads(worker) - threads_before < 20)
        figures["threads"] = asgi_server.threads(worker)
        # An ordinary request to the same worker while every stream is open:
        # 5 s on an idle machine, more on a busy one (a threaded worker never
        # answers, whatever the budget: see the control below).
        figures["snapshot_budget"] = scaled(5)
        started = time.monotonic()
        figures["snapshot"] = await _get(
            asgi_server.port,
            f"/api/v1/events/{event.pk}/seats/availability",
            timeout=2 * figures["snapshot_budget"],
        )
        figures["snapshot_seconds"] = time.monotonic() - started
        # A change published after all of them connected reaches all of them.
        started = time.monotonic()
        held = await asyncio.to_thread(hold, event.pk, 1, "s1", seat_ids=ids[:2])
        figures["held"] = held
        figures["changes"] = await gather_while_progressing(
            (stream.change(timeout=None) for stream in streams),
            stall_seconds=stall,
            what="streams that got the change",
        )
        figures["fan_out_seconds"] = time.monotonic() - started
        # Clients going away release their listener and, with the last one,
        # the subscription.
        for stream in streams:
            stream.close()
        figures["released"] = await _until(lambda: _subscribers(event.pk) == 0)
        return figures

    figures = asyncio.run(scenario())

    assert figures["statuses"] == {200}
    assert figures["content_types"] == {"text/event-stream"}
    assert figures["caching"] == {("no-cache", "no")}
    version = selectors.availability_snapshot(event_id=event.pk).version
    assert {kind for kind, _ in figures["hellos"]} == {"hello"}
    assert {data["version"] for _, data in figures["hellos"]} == {version - 1}
    # One Redis subscription for the whole worker, not one per stream, and
    # no database connection per stream either (the checks share a few; the
    # rest is this test's own).
    assert figures["subscribers"] == 1
    assert figures["database_connections"] <= STREAM_DATABASE_THREADS + 2, figures
    status, body = figures["snapshot"]
    assert status == 200 and body["version"] == version - 1
    assert figures["snapshot_seconds"] < figures["snapshot_budget"], figures
    expected = {"v": figures["held"].version, "g": body["generation"], "held": [0, 1]}
    assert figures["changes"] == [expected] * STREAMS
    assert figures["released"], _subscribers(event.pk)
    # No thread per stream: the few shared database-check threads (Django's
    # per-request thread ends once the stream starts).
    assert figures["threads"] - threads_before < 20, figures["threads"]
    print(
        f"{STREAMS} streams on one worker: threads {threads_before} -> "
        f"{figures['threads']}, database connections "
        f"{figures['database_connections']}, snapshot in {figures['snapshot_seconds'] * 1000:.0f} ms "
        f"while open, change reached all in {figures['fan_out_seconds'] * 1000:.0f} ms"
    )


def test_a_client_that_reconnects_catches_up_from_the_snapshot(asgi_server):
    event = _seated_event()
    ids = seat_ids(event)

    async def scenario() -> dict[str, Any]:
        stream = await Stream.open(asgi_server.port, event.pk)
        _, first_hello = await stream.event()
        stream.close()
        await _until(lambda: _subscribers(event.pk) == 0)
        # While the client is away, seats are taken and one is given back.
        await asyncio.to_thread(hold, event.pk, 1, "s1", seat_ids=ids[:3])
        await asyncio.to_thread(hold, event.pk, 1, "s1", seat_ids=ids[1:3])
        stream = await Stream.open(asgi_server.port, event.pk)
        _, hello = await stream.event()
        _, snapshot = await _get(
            asgi_server.port, f"/api/v1/events/{event.pk}/seats/availability"
        )
        later = await asyncio.to_thread(hold, event.pk, 2, "s2", seat_ids=[ids[9]])
        change = await stream.change()
        stream.close()
        return {
            "first_hello": first_hello,
            "hello": hello,
            "snapshot": snapshot,
            "later": later,
            "change": change,
        }

    seen = asyncio.run(scenario())

    # The version moved while the client was away: the gap tells it to load
    # the snapshot, which already shows what it missed ...
    assert seen["hello"]["version"] == seen["first_hello"]["version"] + 2
    assert seen["hello"]["generation"] == seen["first_hello"]["generation"]
    snapshot = seen["snapshot"]
    assert snapshot["version"] == seen["hello"]["version"]
    bitmap = base64.b64decode(snapshot["unavailable"])
    taken = {i for i in range(80) if bitmap[i >> 3] & (0x80 >> (i & 7))}
    assert taken == {1, 2}
    # ... and the stream goes on from exactly there.
    assert seen["change"] == {
        "v": seen["hello"]["version"] + 1,
        "g": snapshot["generation"],
        "held": [9],
    }
    assert seen["later"].version == seen["hello"]["version"] + 1


def test_an_unknown_event_is_a_json_404_under_asgi_too(asgi_server):
    status, body = asyncio.run(
        _get(asgi_server.port, "/api/v1/events/999999/seats/stream")
    )
    assert status == 404
    assert body["code"] == "event_not_found"


def test_a_stopping_server_says_bye_to_its_streams_and_exits_cleanly(work: Path):
    """SIGTERM (a rollout, a scale-in): every open stream ends at once with
    `bye`, so its browser reconnects to another pod, and the worker exits
    without waiting out the graceful timeout and without an error line."""
    event = _seated_event()
    # The graceful timeout and the budget keep their ratio on a busy machine.
    graceful = 20 * machine_slowness()
    server = _start(work, WEB_ASGI="true", GUNICORN_GRACEFUL_TIMEOUT=f"{graceful:.0f}")

    async def scenario() -> tuple[list[list[str]], float]:
        streams = [await Stream.open(server.port, event.pk) for _ in range(5)]
        for stream in streams:
            await stream.event()
        started = time.monotonic()
        server.process.terminate()
        endings: list[list[str]] = []
        for stream in streams:
            seen: list[str] = []
            try:
                while True:
                    seen.append((await stream.event(timeout=graceful))[0])
            except EOFError:
                seen.append("end")
            endings.append(seen)
        return endings, time.monotonic() - started

    try:
        endings, seconds = asyncio.run(scenario())
        returncode = server.process.wait(timeout=1.5 * graceful)
    finally:
        _stop(server)

    assert endings == [["bye", "end"]] * 5
    # At once, not after the graceful timeout.
    assert seconds < graceful / 2, (seconds, graceful)
    assert returncode == 0
    errors = [line for line in server.log.read_text().splitlines() if '"ERROR"' in line]
    assert errors == []


def test_control_the_same_streams_starve_a_threaded_wsgi_worker(work: Path):
    """Without the ASGI service: gunicorn's gthread worker gives each open
    stream one of its threads, so a few streams leave nothing for anyone."""
    event = _seated_event()
    server = _start(work, WEB_THREADS="4")
    try:

        async def scenario() -> tuple[int | None, int | None]:
            streams = await asyncio.gather(
                *(Stream.open(server.port, event.pk) for _ in range(4))
            )
            await asyncio.gather(*(stream.event() for stream in streams))
            path = f"/api/v1/events/{event.pk}/seats/availability"
            starved, _ = await _get(server.port, path, timeout=2)
            streams[0].close()
            freed, _ = await _get(server.port, path, timeout=scaled(10))
            for stream in streams[1:]:
                stream.close()
            return starved, freed

        starved, freed = asyncio.run(scenario())
    finally:
        _stop(server)

    assert starved is None  # no answer within 2 s: every thread holds a stream
    assert freed == 200  # one stream gone, one thread free again
