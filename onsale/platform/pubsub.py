"""Redis pub/sub for asyncio code: one subscriber connection per process, shared.

An open server-sent event stream only waits; it must not cost a thread, nor a
Redis connection of its own (a pod holds thousands of streams, and Redis has a
client limit). `channel_listen()` registers a queue with this process's hub,
which holds one pub/sub connection, subscribes to a channel while at least one
listener wants it and unsubscribes when the last one leaves, and copies every
message to each listener's queue.

When that connection fails (Redis restarted, failed over, or the network
dropped it), messages may have been missed: every listener is told
(`SubscriptionLost`), the connection is dropped, and the next listener opens a
new one. The streams end and their clients reconnect and catch up from the
snapshot, which is how they recover from any gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import redis.asyncio
import redis.asyncio.cluster
from django.conf import settings
from redis.exceptions import RedisError

from onsale.platform.redis import redis_is_cluster

logger = logging.getLogger(__name__)

# How long the reader waits for one message before it looks again (and lets
# redis-py send its health-check PING on an idle connection).
_READ_SECONDS = 1.0
# Messages a slow listener may fall behind by before it is cut off: its stream
# ends and its client catches up from the snapshot, like after any gap.
LISTENER_BACKLOG = 1000


class SubscriptionLost(Exception):
    """The shared connection failed, this listener fell too far behind (messages
    may have been missed since it started), or the server is stopping."""


_LOST = object()


@dataclass(eq=False)
class Listener:
    """One consumer of one channel: messages arrive on its queue in order."""

    channel: str
    queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    # Set once the end marker is queued: nothing more is delivered.
    ended: bool = False

    async def get(self, timeout: float) -> str | None:
        """The next message, or None after `timeout` seconds without one.
        `SubscriptionLost` once messages may have been missed (everything
        delivered before that comes first, in order)."""
        try:
            async with asyncio.timeout(timeout):
                item = await self.queue.get()
        except TimeoutError:
            return None
        if item is _LOST:
            raise SubscriptionLost()
        assert isinstance(item, str)
        return item

    def deliver(self, item: object) -> None:
        if self.ended:
            return
        if self.queue.qsize() >= LISTENER_BACKLOG:
            item = _LOST
        self.ended = item is _LOST
        self.queue.put_nowait(item)


class ChannelHub:
    """The process's one pub/sub connection and its listeners (per event loop:
    redis.asyncio connections belong to the loop that opened them)."""

    def __init__(
        self, client: redis.asyncio.Redis, keys_client: redis.asyncio.Redis
    ) -> None:
        self.client = client
        # Reads of keys: `client` itself, or with REDIS_CLUSTER on a cluster
        # client that sends each read to the shard owning the key.
        self.keys_client = keys_client
        self.pubsub: redis.asyncio.client.PubSub | None = None
        self.reader: asyncio.Task[None] | None = None
        self.listeners: dict[str, set[Listener]] = {}
        # Channels whose SUBSCRIBE was sent: done once Redis confirmed it.
        self.confirmed: dict[str, asyncio.Future[None]] = {}
        # One (UN)SUBSCRIBE at a time: redis-py's PubSub opens its connection
        # on the first command without a lock, and two first commands at once
        # would each open one.
        self.commands = asyncio.Lock()

    async def add(self, listener: Listener) -> None:
        """Registers `listener` and returns once Redis confirmed the channel's
        subscription: anything published from then on reaches the listener."""
        channel = listener.channel
        self.listeners.setdefault(channel, set()).add(listener)
        try:
            confirmed = self.confirmed.get(channel)
            if confirmed is None:
                confirmed = asyncio.get_running_loop().create_future()
                self.confirmed[channel] = confirmed
                async with self.commands:
                    pubsub = self._pubsub()
                    await pubsub.subscribe(channel)
                    self._start_reader()
            try:
                await asyncio.wait_for(
                    asyncio.shield(confirmed), timeout=settings.REDIS_SOCKET_TIMEOUT
                )
            except TimeoutError as exc:
                raise SubscriptionLost(
                    "Redis did not confirm the subscription"
                ) from exc
        except BaseException:
            await self.remove(listener)
            raise

    async def remove(self, listener: Listener) -> None:
        """Unregisters `listener`; the last one of a channel unsubscribes it."""
        listeners = self.listeners.get(listener.channel)
        if listeners is None or listener not in listeners:
            return
        listeners.discard(listener)
        if listeners:
            return
        del self.listeners[listener.channel]
        self.confirmed.pop(listener.channel, None)
        if self.pubsub is not None:
            try:
                async with self.commands:
                    if self.pubsub is not None:
                        await self.pubsub.unsubscribe(listener.channel)
            except (RedisError, OSError) as exc:
                # The reader sees the same failure and resets the connection.
                logger.warning("pubsub unsubscribe failed", extra={"error": str(exc)})

    def close(self) -> None:
        """Ends every listener (the server is stopping): their streams say
        `bye` and the clients reconnect elsewhere. The subscriptions go with
        the last listeners, as always."""
        self._end_all_listeners()

    def subscribed_channels(self) -> set[str]:
        """The channels Redis is asked to send us (for tests and metrics)."""
        if self.pubsub is None:
            return set()
        return {
            channel.decode() if isinstance(channel, bytes) else str(channel)
            for channel in self.pubsub.channels
        }

    def _pubsub(self) -> redis.asyncio.client.PubSub:
        if self.pubsub is None:
            self.pubsub = self.client.pubsub()
        return self.pubsub

    def _start_reader(self) -> None:
        if self.reader is None:
            pubsub = self._pubsub()
            # Started after the first SUBSCRIBE: redis-py reads only on a
            # connection that subscribed.
            self.reader = asyncio.get_running_loop().create_task(
                self._read(pubsub), name="onsale-pubsub-reader"
            )

    async def _read(self, pubsub: redis.asyncio.client.PubSub) -> None:
        try:
            while self.listeners or self.confirmed:
                message = await pubsub.get_message(timeout=_READ_SECONDS)
                if message is None or message.get("channel") is None:
                    continue
                channel = message["channel"]
                if isinstance(channel, bytes):
                    channel = channel.decode()
                if message["type"] == "subscribe":
                    confirmed = self.confirmed.get(channel)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
                elif message["type"] == "message":
                    for listener in list(self.listeners.get(channel, ())):
                        listener.deliver(message["data"])
        except (RedisError, OSError) as exc:
            logger.warning("pubsub connection lost", extra={"error": str(exc)})
            self._detach(pubsub)
            self._end_all_listeners()
        else:
            # Nobody listens any more: give the connection back.
            self._detach(pubsub)
        with contextlib.suppress(RedisError, OSError):
            # aclose() is redis-py 5's name; the types-redis stubs predate it.
            await pubsub.aclose()  # type: ignore[attr-defined]

    def _detach(self, pubsub: redis.asyncio.client.PubSub) -> None:
        """Forgets `pubsub` and its reader before the connection is closed, so
        a listener arriving meanwhile opens a new one (no await in here)."""
        if self.pubsub is pubsub:
            self.pubsub = None
            self.reader = None

    def _end_all_listeners(self) -> None:
        """Tells every listener that messages may have been lost."""
        for listeners in self.listeners.values():
            for listener in listeners:
                listener.deliver(_LOST)
        for confirmed in self.confirmed.values():
            if not confirmed.done():
                confirmed.set_exception(SubscriptionLost())
                # Marks the exception retrieved: the listener waiting on it,
                # if any, raises it; nothing is logged by the loop.
                confirmed.exception()
        self.listeners.clear()
        self.confirmed.clear()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ChannelHub] = (
    weakref.WeakKeyDictionary()
)


class WaitingRedisCluster(redis.asyncio.cluster.RedisCluster):
    """The asyncio cluster client, whose commands wait for a free connection
    as the plain client's blocking pool does. redis-py's own raises
    MaxConnectionsError at once when a node's `max_connections` are busy, so
    a burst of streams opening together (each reads the seat version) turned
    into 503s on a cluster. At most `max_connections` commands run at once
    over all nodes, so no node's limit is ever reached."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._command_slots = asyncio.Semaphore(kwargs["max_connections"])

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._command_slots:
            return await super().execute_command(*args, **kwargs)


def redis_async_client() -> redis.asyncio.Redis:
    """The running event loop's asyncio client for settings.REDIS_URL (text
    replies), pooled like the synchronous one; a cluster client with
    REDIS_CLUSTER on (typed as `redis.asyncio.Redis`, same commands)."""
    return channel_hub().keys_client


def channel_hub() -> ChannelHub:
    """This event loop's hub (one per worker process under uvicorn)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
            "health_check_interval": 30,
            "max_connections": 32,
        }
        # A blocking pool: a burst of reconnecting streams waits its turn for
        # one of these connections instead of failing.
        pool: redis.asyncio.BlockingConnectionPool = (
            redis.asyncio.BlockingConnectionPool.from_url(
                settings.REDIS_URL, timeout=settings.REDIS_SOCKET_TIMEOUT, **options
            )
        )
        client = redis.asyncio.Redis(connection_pool=pool)
        keys_client = client
        if redis_is_cluster():
            # Pub/sub stays on the node REDIS_URL names: Redis Cluster passes
            # every PUBLISH to all nodes, so one subscriber sees them all.
            keys_client = cast(
                redis.asyncio.Redis,
                WaitingRedisCluster.from_url(settings.REDIS_URL, **options),
            )
        hub = ChannelHub(client, keys_client)
        _hubs[loop] = hub
    return hub


def channel_hubs_close() -> None:
    """Ends every listener of this process, from any thread or a signal
    handler: each hub is closed on its own event loop."""
    for loop, hub in list(_hubs.items()):
        if not loop.is_closed():
            loop.call_soon_threadsafe(hub.close)


@contextlib.asynccontextmanager
async def channel_listen(channel: str) -> AsyncIterator[Listener]:
    """A listener on `channel`, subscribed when this is entered and removed
    when it is left (also when the task is cancelled: a client went away)."""
    hub = channel_hub()
    listener = Listener(channel=channel)
    await hub.add(listener)
    try:
        yield listener
    finally:
        await hub.remove(listener)
