"""The test set-up's own promise: a missing service fails with a clear message."""

from __future__ import annotations

import socket

import pytest

from tests.services import LocalService


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_absent_service_fails_with_a_clear_message() -> None:
    service = LocalService(
        name="Imaginary DB",
        host="127.0.0.1",
        port=_free_port(),
        binary="/nonexistent/imaginary-db",
        start_command=["/nonexistent/imaginary-db"],
    )
    assert not service.reachable()
    with pytest.raises(
        RuntimeError, match=r"Imaginary DB is not reachable .* not installed"
    ):
        service.ensure_running()


def test_reachable_service_is_left_alone() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        service = LocalService(
            "Listener", "127.0.0.1", port, "/bin/false", ["/bin/false"]
        )
        service.ensure_running(wait_seconds=1)
