"""gunicorn's worker for the ASGI application (the seat stream service).

uvicorn's own gunicorn worker, with three changes of ours: Django's ASGI
handler has no lifespan protocol (uvicorn would log that it lacks one at every
start); on SIGTERM the open streams get `graceful_timeout` less a margin to
end before they are cancelled, so they close cleanly (the Redis listener is
removed) before gunicorn's master would kill the worker, and their browsers
reconnect to another pod and catch up from the snapshot. Better still, the
moment the worker is told to stop, every open stream says `bye` (their
listeners are ended, onsale.platform.pubsub), so the browsers move at once and
the worker has nothing left to wait for; and a worker that
stopped on SIGTERM or SIGINT exits with status 0. (uvicorn passes the signal
on to the handler it found once it has shut down; with the default one the
worker dies of the signal, which gunicorn's master logs as an error,
"Worker was sent SIGTERM!", at every ordinary stop.)
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Any

from gunicorn.arbiter import Arbiter
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

from onsale.platform.pubsub import channel_hubs_close

# Seconds kept back from gunicorn's graceful_timeout for the worker to exit.
_EXIT_MARGIN_SECONDS = 5


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


class _StreamServer(Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        channel_hubs_close()


class StreamWorker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": "auto", "lifespan": "off"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.timeout_graceful_shutdown = max(
            1, int(self.cfg.graceful_timeout) - _EXIT_MARGIN_SECONDS
        )

    def init_signals(self) -> None:
        super().init_signals()
        for stop in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop, _exit_normally)

    async def _serve(self) -> None:
        # UvicornWorker._serve with our server class.
        self.config.app = self.wsgi
        server = _StreamServer(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)
