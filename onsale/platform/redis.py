"""One place that hands out Redis connections and loads Lua scripts.

Clients are pooled per URL and per process. Scripts are redis-py `Script`
objects: they run with EVALSHA and load themselves again after `NOSCRIPT`,
which follows `SCRIPT FLUSH`, a restart or a failover.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from redis.commands.core import Script

_clients: dict[tuple[str, bool], redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(*, decode: bool = True, url: str | None = None) -> redis.Redis:
    """The shared client for `url` (default: settings.REDIS_URL).

    `decode=False` returns bytes, for bitmaps and other binary values.
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
                client = redis.Redis.from_url(target, **options)
                _clients[key] = client
    return client


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
        return self._script(keys=keys, args=args, client=client or redis_client())


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
