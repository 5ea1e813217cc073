"""Time budgets for tests that talk to real servers, sized to the machine.

A budget written as a fixed number of seconds holds on an idle workstation and
trips on a busy two-core machine where the test shares the cores with MariaDB,
Redis (three of them under the Redis Cluster run), a server it started and
other test runs. Two tools instead:

- `scaled(seconds)`: the budget for an idle machine times `machine_slowness()`,
  measured when the budget is taken. Use it where the time itself is the claim
  ("an ordinary request still answers within 5 s"), so the claim keeps its
  meaning and only stretches by as much as the machine is slower now.
- `gather_while_progressing(...)`: wait for many things as long as they keep
  finishing. Use it where only the result matters ("all 200 streams are
  served"): nothing is given up while any progress is made, and a server that
  stops serving still fails the test after a stall.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

# CPU seconds of `_busy_loop` on an idle core of an ordinary two-core machine
# (measured with CPython 3.11): a slower processor scales budgets up by as much.
REFERENCE_CPU_SECONDS = 0.02
# Past this, a test is better off failing than waiting ten times its budget.
MAX_SLOWNESS = 10.0


def _busy_loop() -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread) of a fixed pure-Python loop."""
    wall, cpu = time.perf_counter(), time.thread_time()
    total = 0
    for number in range(300_000):
        total += number * number
    return time.perf_counter() - wall, max(time.thread_time() - cpu, 1e-6)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def slowness_from(
    *, wall_seconds: float, cpu_seconds: float, load: float, cpus: int
) -> float:
    """How many times longer than on an idle reference machine things take:
    the processor's own speed (CPU time of the loop against the reference)
    times the share of a core this process gets (wall time against CPU time
    of the loop, or the runnable processes per core of the load average,
    whichever is worse). At least 1, at most MAX_SLOWNESS."""
    speed = max(1.0, cpu_seconds / REFERENCE_CPU_SECONDS)
    contention = max(1.0, wall_seconds / cpu_seconds, load / max(cpus, 1))
    return min(MAX_SLOWNESS, speed * contention)


def machine_slowness() -> float:
    """`slowness_from` measured now: the median of three short loops (about
    60 ms on an idle machine) and the one-minute load average."""
    samples = [_busy_loop() for _ in range(3)]
    return slowness_from(
        wall_seconds=statistics.median(wall for wall, _ in samples),
        cpu_seconds=statistics.median(cpu for _, cpu in samples),
        load=os.getloadavg()[0],
        cpus=_cpus(),
    )


def scaled(seconds: float) -> float:
    """A budget of `seconds` on an idle machine, for this machine now."""
    return seconds * machine_slowness()


class Stalled(AssertionError):
    """Nothing more finished within the stall time: says how far it got."""


async def gather_while_progressing(
    awaitables: Iterable[Awaitable[T]], *, stall_seconds: float, what: str
) -> list[T]:
    """The results of `awaitables` in order, as `asyncio.gather` gives them,
    waiting as long as at least one of them finishes every `stall_seconds`.

    Raises `Stalled` (naming `what` and how many were done) when none finished
    for that long, and the first exception any of them raised; either way the
    rest are cancelled."""
    tasks: list[asyncio.Future[T]] = [asyncio.ensure_future(a) for a in awaitables]
    pending: set[asyncio.Future[Any]] = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=stall_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                task.result()  # the first failure ends the wait
            if not done:
                finished = len(tasks) - len(pending)
                raise Stalled(
                    f"{what}: {finished} of {len(tasks)} done, and no more within "
                    f"{stall_seconds:.1f} s"
                )
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    return [task.result() for task in tasks]
