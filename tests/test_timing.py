"""The time budgets of onsale/testutils/timing.py: how slow the machine is,
and waiting on many things as long as they keep finishing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from onsale.testutils.timing import (
    MAX_SLOWNESS,
    REFERENCE_CPU_SECONDS,
    Stalled,
    gather_while_progressing,
    slowness_from,
)

IDLE = REFERENCE_CPU_SECONDS


def test_an_idle_reference_machine_keeps_the_budgets_as_written():
    assert slowness_from(wall_seconds=IDLE, cpu_seconds=IDLE, load=0.5, cpus=2) == 1


def test_a_faster_machine_never_shrinks_them():
    fast = IDLE / 4
    assert slowness_from(wall_seconds=fast, cpu_seconds=fast, load=0, cpus=2) == 1


def test_half_a_core_doubles_them():
    assert slowness_from(wall_seconds=2 * IDLE, cpu_seconds=IDLE, load=0, cpus=2) == 2


def test_a_load_of_four_per_core_quadruples_them():
    assert slowness_from(wall_seconds=IDLE, cpu_seconds=IDLE, load=8, cpus=2) == 4


def test_a_slower_processor_and_a_busy_one_multiply():
    slow = 2 * IDLE
    assert slowness_from(wall_seconds=3 * slow, cpu_seconds=slow, load=0, cpus=2) == 6


def test_no_budget_grows_past_the_cap():
    assert (
        slowness_from(wall_seconds=IDLE, cpu_seconds=IDLE, load=1000, cpus=1)
        == MAX_SLOWNESS
    )


def test_a_core_shared_with_a_busy_process_is_measured_as_slower():
    # A child pinned to one core next to a busy loop pinned to the same core
    # gets about half of it; the busy loop's share shows in the measure even
    # when the load average (a minute's mean) has not caught up yet.
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs CPU affinity (Linux)")
    core = min(os.sched_getaffinity(0))
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass",
        ]
    )
    try:
        time.sleep(0.3)
        measured = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import os; os.sched_setaffinity(0, {{{core}}})\n"
                "from onsale.testutils.timing import _busy_loop\n"
                "walls, cpus = zip(*(_busy_loop() for _ in range(5)))\n"
                "print(sorted(walls)[2] / sorted(cpus)[2])",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    finally:
        busy.kill()
        busy.wait()
    assert float(measured.stdout) > 1.5, measured.stdout


async def _after(seconds: float, value: int) -> int:
    await asyncio.sleep(seconds)
    return value


def test_things_that_keep_finishing_are_all_waited_for_past_the_stall_time():
    # ten results 0.05 s apart: 0.5 s in all, never 0.2 s without progress
    started = time.monotonic()
    results = asyncio.run(
        gather_while_progressing(
            (_after(0.05 * (n + 1), n) for n in reversed(range(10))),
            stall_seconds=0.2,
            what="results",
        )
    )
    assert results == list(reversed(range(10)))  # in the order given
    assert time.monotonic() - started >= 0.5


def test_a_stall_fails_with_how_far_it_got_and_cancels_the_rest():
    cancelled: list[bool] = []

    async def never() -> int:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 0

    async def scenario() -> None:
        await gather_while_progressing(
            [_after(0.01, 1), _after(0.02, 2), never()],
            stall_seconds=0.2,
            what="streams served",
        )

    with pytest.raises(Stalled) as raised:
        asyncio.run(scenario())
    assert str(raised.value) == "streams served: 2 of 3 done, and no more within 0.2 s"
    assert cancelled == [True]


def test_the_first_failure_ends_the_wait():
    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise EOFError("the stream ended")

    async def scenario() -> None:
        await gather_while_progressing(
            [broken(), _after(3600, 1)], stall_seconds=60, what="streams"
        )

    started = time.monotonic()
    with pytest.raises(EOFError, match="the stream ended"):
        asyncio.run(scenario())
    assert time.monotonic() - started < 30
