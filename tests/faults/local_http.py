"""Small helpers for tests that start servers of their own on 127.0.0.1."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_200(url: str) -> bool:
    """Whether a server the test started answers `url` with 200 (Host:
    localhost, as ALLOWED_HOSTS expects); False while it is not up yet."""
    # Only ever http://127.0.0.1:<port> of a server the calling test started.
    request = urllib.request.Request(url, headers={"Host": "localhost"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False
