"""The live seat stream: availability changes as server-sent events.

`GET /api/v1/events/{id}/seats/stream` is public, like the availability
snapshot. In production it is its own service (`ONSALE_SERVICE=seatstream`):
gunicorn with uvicorn's worker runs the ASGI application (onsale/config/asgi.py),
and an open stream is a coroutine waiting on a queue fed by the process's one
Redis pub/sub connection, so one worker holds thousands of them and no web
thread waits on a seat page.

Under WSGI (`manage.py runserver`, the `web` process of `./bin/run`, Django's
test client) the same view streams from the request's thread, as a plain
iterator: it works, but each open seat page then holds one of the worker's
threads, which is why the proxies route this URL to the ASGI service. So that
open seat pages cannot take every thread of such a process, it serves at most
`SEAT_STREAM_WSGI_MAX_PER_PROCESS` streams at once; past that a stream is
refused with 503 `seat_stream_busy` and Retry-After, and the page polls the
snapshot instead until a later try gets a stream.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Generator,
    Iterator,
    MutableMapping,
)
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.views.decorators.http import require_GET

# RedisClusterException: the cluster client found no node to learn slots from.
from redis.exceptions import RedisClusterException, RedisError

from onsale.events import selectors as event_selectors
from onsale.platform.exceptions import (
    DomainError,
    dependency_unavailable_response,
    error_body,
)
from onsale.platform.observability.metrics import SEAT_STREAMS_OPEN
from onsale.platform.pubsub import SubscriptionLost
from onsale.platform.redis import redis_client
from onsale.seatselection.keys import seat_key
from onsale.seatselection.selectors import availability_stream_position

logger = logging.getLogger(__name__)

# --- The change stream (what the scripts publish) ---------------------------


@dataclass(frozen=True)
class StreamItem:
    """One item of a live availability stream: `hello` (where the stream
    starts), `change` (a published change), `heartbeat`, or `bye` (time up)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def availability_change_stream(
    *,
    event_id: int,
    max_seconds: float,
    heartbeat_seconds: float,
) -> Generator[StreamItem, None, None]:
    """Changes to the event's availability as the scripts publish them.

    Subscribes before reading the current version, so nothing published in
    between is missed: `hello` carries the version and generation to compare
    with the client's snapshot. Uses one Redis connection and no database
    connection; ends after `max_seconds` so a stream never pins a worker for
    good (clients reconnect and catch up from the snapshot).
    """
    from onsale.seatselection.keys import seat_changes_channel

    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(seat_changes_channel(event_id))
        version, generation = availability_stream_position(event_id=event_id)
        yield StreamItem(
            kind="hello",
            data={"version": version, "generation": generation, "event_id": event_id},
        )
        started = time.monotonic()
        deadline = started + max_seconds
        next_heartbeat = started + heartbeat_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = max(0.0, min(1.0, deadline - now, next_heartbeat - now))
            message = pubsub.get_message(timeout=wait)
            if message is not None and message.get("type") == "message":
                yield StreamItem(kind="change", data=json.loads(message["data"]))
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + heartbeat_seconds
                yield StreamItem(kind="heartbeat")
        yield StreamItem(kind="bye", data={"reconnect": True})
    finally:
        pubsub.close()


async def availability_change_stream_async(
    *,
    event_id: int,
    max_seconds: float,
    heartbeat_seconds: float,
) -> AsyncGenerator[StreamItem, None]:
    """The items of `availability_change_stream`, for an event loop.

    Listens through the process's one shared pub/sub connection
    (`onsale.platform.pubsub`), so an open stream costs a queue, not a thread
    nor a Redis connection. The same order: listening is confirmed before the
    version is read. Ends early with `bye` when messages may have been missed
    (the shared connection failed, or this client fell far behind): the client
    reconnects and compares versions as after any gap. Leaving the iteration
    early (the client went away) removes the listener.
    """
    from onsale.platform.pubsub import (
        SubscriptionLost,
        channel_listen,
        redis_async_client,
    )
    from onsale.seatselection.keys import seat_changes_channel

    async with channel_listen(seat_changes_channel(event_id)) as listener:
        version, generation = await redis_async_client().mget(
            seat_key(event_id, "version"), seat_key(event_id, "gen")
        )
        yield StreamItem(
            kind="hello",
            data={
                "version": int(version or 0),
                "generation": str(generation or ""),
                "event_id": event_id,
            },
        )
        started = time.monotonic()
        deadline = started + max_seconds
        next_heartbeat = started + heartbeat_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = max(0.0, min(deadline - now, next_heartbeat - now))
            try:
                data = await listener.get(timeout=wait)
            except SubscriptionLost:
                break
            if data is not None:
                yield StreamItem(kind="change", data=json.loads(data))
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + heartbeat_seconds
                yield StreamItem(kind="heartbeat")
        yield StreamItem(kind="bye", data={"reconnect": True})


# --- Server-sent events ------------------------------------------------------

# Tells the browser how long to wait before it reconnects (milliseconds).
RETRY_FRAME = b"retry: 3000\n\n"
HEARTBEAT_FRAME = b": heartbeat\n\n"


def sse_frame(item: StreamItem) -> bytes:
    """One stream item as server-sent event bytes: heartbeats are comments,
    changes carry their version as the event id."""
    if item.kind == "heartbeat":
        return HEARTBEAT_FRAME
    return _sse(
        item.kind, item.data, item.data.get("v") if item.kind == "change" else None
    )


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def _items(event_id: int) -> Generator[StreamItem, None, None]:
    return availability_change_stream(
        event_id=event_id,
        max_seconds=settings.SEAT_STREAM_MAX_SECONDS,
        heartbeat_seconds=settings.SEAT_STREAM_HEARTBEAT_SECONDS,
    )


def _items_async(event_id: int) -> AsyncGenerator[StreamItem, None]:
    return availability_change_stream_async(
        event_id=event_id,
        max_seconds=settings.SEAT_STREAM_MAX_SECONDS,
        heartbeat_seconds=settings.SEAT_STREAM_HEARTBEAT_SECONDS,
    )


def _stream_open(event_id: int) -> Iterator[bytes]:
    """Subscribe and read the current version (raising if Redis cannot be
    reached), then the stream's frames."""
    items = _items(event_id)
    try:
        hello = next(items)
    except BaseException:
        items.close()
        raise
    return _frames(hello, items)


async def _stream_open_async(event_id: int) -> AsyncIterator[bytes]:
    """`_stream_open` for an event loop."""
    items = _items_async(event_id)
    try:
        hello = await anext(items)
    except BaseException:
        await items.aclose()
        raise
    return _frames_async(hello, items)


def _frames(
    hello: StreamItem, items: Generator[StreamItem, None, None]
) -> Iterator[bytes]:
    """The frames of a stream already subscribed (`hello` was its first item)."""
    SEAT_STREAMS_OPEN.inc()
    try:
        yield RETRY_FRAME
        yield sse_frame(hello)
        for item in items:
            yield sse_frame(item)
    except (RedisError, OSError) as exc:
        _ended_by_redis(exc)
    finally:
        items.close()
        SEAT_STREAMS_OPEN.dec()


async def _frames_async(
    hello: StreamItem, items: AsyncGenerator[StreamItem, None]
) -> AsyncIterator[bytes]:
    """The frames of a stream already subscribed (`hello` was its first item)."""
    _request_thread_release()
    SEAT_STREAMS_OPEN.inc()
    try:
        yield RETRY_FRAME
        yield sse_frame(hello)
        async for item in items:
            yield sse_frame(item)
    except (RedisError, RedisClusterException, OSError, SubscriptionLost) as exc:
        _ended_by_redis(exc)
    finally:
        await items.aclose()
        SEAT_STREAMS_OPEN.dec()


def _ended_by_redis(exc: BaseException) -> None:
    # Redis went away mid-stream (the status line is already sent, so no 503
    # now): end the stream. The browser retries after the `retry` delay and
    # the page polls the snapshot meanwhile; readiness reports Redis.
    logger.warning("seat stream ended: Redis unavailable", extra={"error": str(exc)})


def _request_thread_release() -> None:
    """Lets the request's own thread go while the stream is open.

    Django's ASGI handler gives every request a thread of its own for the
    synchronous code it runs (signals, middleware, the database check), kept
    until the request ends: for a stream, minutes of a parked thread per open
    seat page. Once the response is streaming nothing synchronous runs until
    the end, so the thread is shut down here; the few calls at the end (closing
    the response, `request_finished`) get a fresh one for that moment, and
    Django's context shuts that one down as usual.

    Uses asgiref's per-context executors (`SyncToAsync.context_to_thread_executor`,
    keyed by the current `ThreadSensitiveContext`). If a later asgiref lays
    them out differently this does nothing, and the stream server test, which
    counts the worker's threads, says so.
    """
    context = SyncToAsync.thread_sensitive_context.get(None)
    executors = getattr(SyncToAsync, "context_to_thread_executor", None)
    if context is None or not isinstance(executors, MutableMapping):
        return
    executor = executors.pop(context, None)
    if executor is not None:
        # Idle (nothing synchronous is running for this request now), so its
        # thread ends at once; no need to wait for it here.
        executor.shutdown(wait=False)


def _published_event_check(event_id: int) -> DomainError | None:
    """None if the event is published, else the error to answer with. Closes
    the database connection afterwards: a stream lives for minutes and must
    not keep one (inside a test's transaction there is nothing to close)."""
    try:
        event_selectors.event_get_published(event_id=event_id)
    except DomainError as exc:
        return exc
    finally:
        if not connection.in_atomic_block:
            connection.close()
    return None


# Under ASGI nothing bounds how many streams open at once (a pod that goes away
# sends thousands of browsers to reconnect within seconds), so their database
# checks share these few threads and their connections instead of opening one
# connection per stream: MySQL's connection limit is far below a pod's streams.
STREAM_DATABASE_THREADS = 4
_database_checks = ThreadPoolExecutor(
    max_workers=STREAM_DATABASE_THREADS, thread_name_prefix="onsale-stream-db"
)


def _published_event_check_pooled(event_id: int) -> DomainError | None:
    """`_published_event_check` for one of the shared threads: their
    connections are kept (CONN_MAX_AGE) and renewed as Django renews a
    request's, since no request signal runs on these threads."""
    connection.close_if_unusable_or_obsolete()
    try:
        event_selectors.event_get_published(event_id=event_id)
    except DomainError as exc:
        return exc
    return None


# --- Streams served from WSGI threads ---------------------------------------------

SEAT_STREAM_BUSY = "seat_stream_busy"
SEAT_STREAM_BUSY_RETRY_SECONDS = 30
_wsgi_streams_lock = threading.Lock()
_wsgi_streams_open = 0


def _wsgi_stream_slot_take() -> bool:
    """One of this process's WSGI stream slots, or False when all are taken."""
    global _wsgi_streams_open
    with _wsgi_streams_lock:
        if _wsgi_streams_open >= settings.SEAT_STREAM_WSGI_MAX_PER_PROCESS:
            return False
        _wsgi_streams_open += 1
        return True


def _wsgi_stream_slot_give() -> None:
    global _wsgi_streams_open
    with _wsgi_streams_lock:
        _wsgi_streams_open -= 1


class _SlotFrames:
    """A WSGI stream's frames that give back their slot once, when they end
    or when the server closes the response, even one closed before it sent
    anything (a generator's `finally` would not run then)."""

    def __init__(self, frames: Iterator[bytes]) -> None:
        self._frames = frames
        self._held = True

    def __iter__(self) -> _SlotFrames:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._frames)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._held:
            self._held = False
            _wsgi_stream_slot_give()
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


def _stream_busy_response() -> JsonResponse:
    response = JsonResponse(
        error_body(
            SEAT_STREAM_BUSY,
            "This server is serving as many live seat streams as it can; "
            "the seat map updates every few seconds instead.",
            {"retry_after_seconds": SEAT_STREAM_BUSY_RETRY_SECONDS},
        ),
        status=503,
    )
    response["Retry-After"] = str(SEAT_STREAM_BUSY_RETRY_SECONDS)
    return response


@require_GET
async def seat_stream(request: HttpRequest, event_id: int) -> HttpResponseBase:
    """Live availability changes as server-sent events, over Redis pub/sub.

    A plain Django view, not DRF: it needs no authentication (availability is
    public). The event is checked in the database first; no connection is
    held while streaming. Redis unreachable at the start: 503
    `dependency_unavailable` with Retry-After.

    Frames: `hello` (current version and generation), then `change` events
    `{v, g, held?, freed?, sold?, ga?, refresh?, reload?}` with `id: v`, heartbeat
    comments, and `bye` when the stream's time is up (the browser reconnects).
    A client that finds a gap in `v`, another generation, or `refresh` loads the
    snapshot (`.../seats/availability`); `reload` means the map itself changed.
    """
    if isinstance(request, ASGIRequest):
        error = await sync_to_async(
            _published_event_check_pooled,
            thread_sensitive=False,
            executor=_database_checks,
        )(event_id)
    else:
        # The request's own thread (and a test's transaction).
        error = await sync_to_async(_published_event_check)(event_id)
    if error is not None:
        return JsonResponse(
            error_body(error.code, error.message, error.extra), status=404
        )
    # Subscribed and the current version read before the answer starts, so a
    # Redis that cannot be reached is a 503 with Retry-After, not a stream
    # that ends at once.
    frames: AsyncIterator[bytes] | Iterator[bytes]
    try:
        if isinstance(request, ASGIRequest):
            frames = await _stream_open_async(event_id)
        else:
            # WSGI sends a response from a thread and would read an
            # asynchronous iterator to its end before sending anything: a
            # plain iterator, begun on the request's thread, which WSGI then
            # goes on reading. It holds that thread: one of a bounded few.
            if not _wsgi_stream_slot_take():
                return _stream_busy_response()
            try:
                frames = _SlotFrames(await sync_to_async(_stream_open)(event_id))
            except BaseException:
                _wsgi_stream_slot_give()
                raise
    except (RedisError, RedisClusterException, OSError, SubscriptionLost) as exc:
        logger.warning(
            "seat stream refused: Redis unavailable", extra={"error": str(exc)}
        )
        return dependency_unavailable_response("redis")
    response = StreamingHttpResponse(frames, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # nginx must pass events through as they come, not buffer them.
    response["X-Accel-Buffering"] = "no"
    return response
