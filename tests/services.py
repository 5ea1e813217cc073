"""Reaching (and where possible starting) the real MariaDB and Redis for tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlparse


@dataclass(frozen=True)
class LocalService:
    name: str
    host: str
    port: int
    binary: str
    start_command: list[str]

    def reachable(self, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=timeout):
                return True
        except OSError:
            return False

    def ensure_running(self, wait_seconds: float = 30.0) -> None:
        """Start the service if it is installed here but stopped; fail clearly
        if it is absent or will not come up."""
        if self.reachable():
            return
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError(
                f"{self.name} at {self.host}:{self.port} is not reachable."
            )
        if shutil.which(self.binary) is None and not os.path.exists(self.binary):
            raise RuntimeError(
                f"{self.name} is not reachable at {self.host}:{self.port} and is not installed "
                f"({self.binary} not found). Install it or point the tests at a running one."
            )
        subprocess.run(self.start_command, check=False, capture_output=True, timeout=60)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self.reachable():
                return
            time.sleep(0.25)
        raise RuntimeError(
            f"{self.name} did not come up on {self.host}:{self.port} within "
            f"{wait_seconds:.0f}s (tried: {' '.join(self.start_command)})."
        )


def mariadb_service(database_url: str) -> LocalService:
    parsed = urlparse(database_url)
    return LocalService(
        name="MariaDB",
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 3306,
        binary="/usr/sbin/mariadbd",
        start_command=[
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
        ],
    )


def redis_service(redis_url: str) -> LocalService:
    parsed = urlparse(redis_url)
    return LocalService(
        name="Redis",
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 6379,
        binary="redis-server",
        start_command=[
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            str(parsed.port or 6379),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
    )
