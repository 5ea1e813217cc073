"""A constant-arrival-rate HTTP load generator (what wrk2 does, in Python).

Request i is due at `start + i / rate`, whether or not earlier answers have
come back; its latency is measured from that due time, not from when it was
actually written. So when the server stalls, the requests that queue up
behind the stall are charged for the wait (no coordinated omission: a closed
loop like wrk's would simply send fewer requests and report the survivors'
fast answers).

Each request is a *flow* of one or more steps on one keep-alive connection
(a hold then its checkout, say): a generator that yields `(name, Request)`
and receives `(status, body)` back. The first step's latency counts from the
due time; a later step's from the moment the previous answer arrived.
Connections are reused; a new one is opened when all are busy, up to
`max_connections` (then requests wait for one, and the wait counts).

The generator reports its own CPU time: if it is near one core per process,
it is the bottleneck and its latencies are not the server's. `dispatch_lag`
is how late the generator itself sent requests after their due time (the
worst, and the 99th percentile).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

Flow = Generator[tuple[str, "Request"], tuple[int, bytes], None]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    rate: float  # asked for
    seconds: float
    sent: int = 0
    elapsed: float = 0.0
    cpu_seconds: float = 0.0
    processes: int = 1
    dispatch_lag_ms: float = 0.0  # the worst
    dispatch_lags_ms: list[float] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: Result) -> None:
        self.sent += other.sent
        self.elapsed = max(self.elapsed, other.elapsed)
        self.cpu_seconds += other.cpu_seconds
        self.dispatch_lag_ms = max(self.dispatch_lag_ms, other.dispatch_lag_ms)
        self.dispatch_lags_ms.extend(other.dispatch_lags_ms)
        for name, values in other.latencies_ms.items():
            self.latencies_ms.setdefault(name, []).extend(values)
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)

    @property
    def dispatch_lag_p99_ms(self) -> float:
        """How late the generator sent its requests, 99th percentile."""
        lags = sorted(self.dispatch_lags_ms)
        return lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else 0.0

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed if self.elapsed else 0.0

    @property
    def generator_cpu_share(self) -> float:
        """CPU used per process, as a share of one core."""
        if not self.elapsed:
            return 0.0
        return self.cpu_seconds / self.elapsed / self.processes

    def percentile(self, name: str, share: float) -> float:
        values = sorted(self.latencies_ms.get(name, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(share * len(values)))]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def exchange(self, payload: bytes) -> tuple[int, bytes, bool]:
        """Send one request, read one answer: (status, body, keep open)."""
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        return status, body, headers.get("connection", "").lower() != "close"

    def close(self) -> None:
        self.writer.close()


async def _run(
    *,
    host: str,
    port: int,
    rate: float,
    seconds: float,
    flow: Callable[[int], Flow],
    first: int,
    stride: int,
    max_connections: int,
    start_at: float,
) -> Result:
    loop = asyncio.get_running_loop()
    result = Result(rate=rate, seconds=seconds)
    idle: list[_Connection] = []
    opened = 0
    freed = asyncio.Condition()
    # This process's share: flow indices first, first + stride, ... below the
    # run's total, each due at begin + index / rate.
    total = len(range(first, int(rate * seconds), stride))
    host_header = f"{host}:{port}"

    async def connection() -> _Connection:
        nonlocal opened
        while True:
            if idle:
                return idle.pop()
            if opened < max_connections:
                opened += 1
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    opened -= 1
                    raise
                return _Connection(reader, writer)
            async with freed:
                await freed.wait()

    async def release(conn: _Connection | None) -> None:
        nonlocal opened
        if conn is None:
            opened -= 1
        else:
            idle.append(conn)
        async with freed:
            freed.notify()

    async def one(index: int, due: float) -> None:
        steps = flow(index)
        try:
            name, request = next(steps)
        except StopIteration:
            return
        started = due
        conn: _Connection | None = None
        try:
            conn = await connection()
            while True:
                status, body, keep = await conn.exchange(request.encode(host_header))
                now = loop.time()
                result.latencies_ms.setdefault(name, []).append((now - started) * 1000)
                result.statuses[f"{name} {status}"] += 1
                if not keep:
                    conn.close()
                    await release(None)
                    conn = None
                try:
                    name, request = steps.send((status, body))
                except StopIteration:
                    break
                started = now
                if conn is None:
                    conn = await connection()
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[f"{name} {type(exc).__name__}"] += 1
            if conn is not None:
                conn.close()
                conn = None
                await release(None)
            return
        if conn is not None:
            await release(conn)

    tasks: set[asyncio.Task[None]] = set()
    wall_start = time.time()
    # All processes share the wall-clock start, so their schedules interleave.
    begin = loop.time() + max(0.0, start_at - wall_start)
    sent = 0
    while sent < total:
        now = loop.time()
        while sent < total:
            due = begin + (first + sent * stride) / rate
            if due > now:
                break
            lag = (now - due) * 1000
            result.dispatch_lag_ms = max(result.dispatch_lag_ms, lag)
            result.dispatch_lags_ms.append(lag)
            task = asyncio.create_task(one(first + sent * stride, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if sent < total:
            next_due = begin + (first + sent * stride) / rate
            await asyncio.sleep(max(0.0, next_due - loop.time()))
    result.sent = sent
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    result.elapsed = max(loop.time() - begin, 1e-9)
    for conn in idle:
        conn.close()
    return result


def _child(
    slot: int,
    processes: int,
    options: dict[str, Any],
    flow: Callable[[int], Flow],
    reports: Any,
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = asyncio.run(
        _run(flow=flow, first=slot, stride=processes, **options),
    )
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    reports.put(result)


def run(
    *,
    host: str,
    port: int,
    rate: float,
    seconds: float,
    flow: Callable[[int], Flow],
    processes: int = 1,
    max_connections: int = 256,
) -> Result:
    """`rate` flows per second for `seconds`, from `processes` forked
    processes (each takes every processes-th flow index, at rate/processes).
    `flow(i)` makes flow number i."""
    context = multiprocessing.get_context("fork")
    reports: Any = context.Queue()
    options = {
        "host": host,
        "port": port,
        "rate": rate,
        "seconds": seconds,
        "max_connections": max(1, max_connections // processes),
        "start_at": time.time() + 0.5,
    }
    children = [
        context.Process(target=_child, args=(slot, processes, options, flow, reports))
        for slot in range(processes)
    ]
    for child in children:
        child.start()
    merged = Result(rate=rate, seconds=seconds, processes=processes)
    try:
        for _ in children:
            merged.merge(reports.get(timeout=seconds + 120))
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
    return merged
