"""One place that hands out Redis connections and loads Lua scripts.

Clients are pooled per URL and per process. Scripts are redis-py `Script`
objects: they run with EVALSHA and load themselves again after `NOSCRIPT`,
which follows `SCRIPT FLUSH`, a restart or a failover.

With REDIS_CLUSTER on, the client of REDIS_URL is a redis-py `RedisCluster`:
it learns the slot map from the node named and sends each command, script or
pipeline part to the shard that owns its keys. Every script's keys belong to
one event and share its hash tag, so a script runs whole on one shard.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import redis
from django.conf import settings
from redis.cluster import ClusterPipeline, RedisCluster
from redis.commands.core import Script
from redis.exceptions import RedisClusterException

_clients: dict[tuple[str, bool], redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(*, decode: bool = True, url: str | None = None) -> redis.Redis:
    """The shared client for `url` (default: settings.REDIS_URL).

    `decode=False` returns bytes, for bitmaps and other binary values. With
    REDIS_CLUSTER on, the client of REDIS_URL is a `RedisCluster` (typed as
    `redis.Redis`: it has the same commands, routed by key slot).
    """
    target = url or settings.REDIS_URL
    key = (target, decode)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                options: dict[str, Any] = {
                    "decode_responses": decode,
                    "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
                    "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
                    "health_check_interval": 30,
                    "max_connections": 256,
                }
                if redis_is_cluster(target):
                    client = cast(redis.Redis, _cluster_client(target, options))
                else:
                    client = redis.Redis.from_url(target, **options)
                _clients[key] = client
    return client


def _cluster_client(url: str, options: dict[str, Any]) -> RedisCluster:
    try:
        return RedisCluster.from_url(url, **options)
    except RedisClusterException as exc:
        # No node answered while learning the slot map: an outage like any
        # refused connection (503 dependency_unavailable), not a bug.
        if isinstance(exc.__cause__, redis.ConnectionError | redis.TimeoutError):
            raise redis.ConnectionError(str(exc)) from exc
        raise


def redis_is_cluster(url: str | None = None) -> bool:
    """Whether `url` (default: REDIS_URL) is the Redis Cluster of REDIS_CLUSTER."""
    return bool(settings.REDIS_CLUSTER) and (url or settings.REDIS_URL) == (
        settings.REDIS_URL
    )


def redis_key(*parts: str | int) -> str:
    """A key under this deployment's prefix. Apps wrap this in their own builder."""
    return settings.REDIS_KEY_PREFIX + ":".join(str(part) for part in parts)


class LuaScript:
    """A Lua script read from a file, run by SHA on whichever client is current.

    The script text is read once at import, with `preludes` (files of helper
    functions several scripts share) in front of it. `Script.__call__` retries
    with `SCRIPT LOAD` on `NoScriptError`, so a flushed or restarted Redis is
    healed on the next call.
    """

    def __init__(self, path: Path, preludes: Sequence[Path] = ()) -> None:
        self.path = path
        self.name = path.stem
        self.source = "\n".join(
            file.read_text(encoding="utf-8") for file in (*preludes, path)
        )
        # The registered client only supplies the encoder used to compute the
        # SHA; every call passes the client to run on.
        self._script = Script(redis.Redis(), self.source)

    @property
    def sha(self) -> str:
        return str(getattr(self._script, "sha", ""))

    def __call__(
        self,
        *,
        keys: list[str],
        args: list[Any],
        client: redis.Redis | None = None,
    ) -> Any:
        if isinstance(client, ClusterPipeline):
            return self._queue_on_cluster_pipeline(client, keys, args)
        return self._script(keys=keys, args=args, client=client or redis_client())

    def _queue_on_cluster_pipeline(
        self, pipeline: ClusterPipeline, keys: list[str], args: list[Any]
    ) -> Any:
        # redis-py refuses `evalsha` on a cluster pipeline, as it could not
        # load a missing script inside one; bulk loads (benchmarks, drills)
        # still queue scripts. So the script is loaded on every primary once
        # per pipeline and the EVALSHA is queued as a raw command.
        loaded: set[str] = pipeline.__dict__.setdefault("_onsale_scripts", set())
        if self.name not in loaded:
            redis_client().script_load(self.source)
            loaded.add(self.name)
        return pipeline.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)


_PLATFORM_LUA = Path(__file__).resolve().parent / "lua"


def lua_script(
    module_file: str, name: str, *, preludes: Sequence[str] = ()
) -> LuaScript:
    """Load `lua/<name>.lua` from the folder of the module calling this, with
    each of `preludes` in front of it, in order: `lua/<prelude>.lua` of that
    folder, or else of the platform's (helpers every app may use)."""
    folder = Path(module_file).resolve().parent / "lua"
    files = [
        folder / f"{prelude}.lua"
        if (folder / f"{prelude}.lua").exists()
        else _PLATFORM_LUA / f"{prelude}.lua"
        for prelude in preludes
    ]
    return LuaScript(folder / f"{name}.lua", files)
