"""The command line of the Celery worker that tests and benchmarks start on
their own (`worker_app`: the project's app, broker keys under the run's
prefix). No imports with side effects: the benchmarks' harness uses it too."""

from __future__ import annotations

import sys


def worker_command(*, solo: bool = False, loglevel: str = "WARNING") -> list[str]:
    """One worker on the queues the web tier sends to; no gossip, mingle or
    heartbeat (it is alone). `solo` runs tasks in the worker process itself
    (a kill then hits the task); otherwise one forked child."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "onsale.testutils.worker_app",
        "worker",
        "-Q",
        "checkout,orders,default",
        *(["--pool=solo"] if solo else ["--concurrency", "1"]),
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        loglevel,
    ]
