"""Reaching (and where possible starting) the real MariaDB and Redis for tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


def _free_cluster_port() -> int:
    """A port free for a Redis Cluster node, with its bus port (+10000) free."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as bus:
                bus.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


@contextlib.contextmanager
def redis_cluster(work: Path, *, shards: int = 3) -> Iterator[str]:
    """A throwaway Redis Cluster of `shards` primaries on 127.0.0.1, each with
    an equal range of the 16,384 slots; yields the URL of its first node and
    stops every node afterwards. Needs only `redis-server` (the slots are
    assigned and the nodes introduced through redis-py, not redis-cli)."""
    import redis

    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    ports = [_free_cluster_port() for _ in range(shards)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            folder = work / f"redis-cluster-{port}"
            folder.mkdir(parents=True)
            processes.append(
                subprocess.Popen(
                    [
                        "redis-server",
                        "--port", str(port),
                        "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", str(folder / "nodes.conf"),
                        "--dir", str(folder),
                        "--save", "",
                        "--appendonly", "no",
                        "--logfile", str(folder / "redis.log"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        nodes = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
        deadline = time.monotonic() + 30
        for node in nodes:
            while True:
                try:
                    node.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            "a Redis Cluster node did not start"
                        ) from None
                    time.sleep(0.05)
        per_shard = 16384 // shards
        for index, node in enumerate(nodes):
            first = index * per_shard
            last = 16383 if index == shards - 1 else first + per_shard - 1
            node.execute_command("CLUSTER ADDSLOTSRANGE", first, last)
        for port in ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
        while not all(
            node.execute_command("CLUSTER INFO")["cluster_state"] == "ok"
            and int(node.execute_command("CLUSTER INFO")["cluster_known_nodes"])
            == shards
            for node in nodes
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach state ok")
            time.sleep(0.1)
        for node in nodes:
            node.close()
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
