"""bench/scenarios/redis_cluster.py runs, briefly: both clients answer every
call as expected (the script exits non-zero otherwise), the table is printed,
its cluster is stopped and its keys on the plain Redis are gone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]


def test_the_redis_cluster_benchmark_runs_and_cleans_up():
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "scenarios" / "redis_cluster.py"),
            "--calls",
            "50",
            "--rounds",
            "1",
            "--redis-url",
            os.environ["REDIS_URL"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for call in ("GET", "rate-limit script", "pipeline of 10 HGET"):
        assert re.search(rf"^{call} .*x$", result.stdout, re.MULTILINE), call
    prefix = re.search(r"Redis prefix (\S+),", result.stdout)
    assert prefix is not None
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert not list(client.scan_iter(match=f"{prefix.group(1)}*", count=1000))
