"""bench/scenarios/join_cpu.py runs, briefly, against the real MariaDB and
Redis: every request answered as it should be (the script exits non-zero
otherwise), the table printed, and its database and keys gone afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[2]


def test_the_join_cpu_benchmark_runs_and_cleans_up():
    mysql_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "scenarios" / "join_cpu.py"),
            "--rounds",
            "1",
            "--batch",
            "40",
            "--mysql-url",
            mysql_url,
            "--redis-url",
            os.environ["REDIS_URL"],
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "join, account check cached" in result.stdout
    assert "answers: empty ['200'], join ['201']" in result.stdout
    prefix = re.search(r"Redis prefix (\S+):,", result.stdout)
    assert prefix is not None
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert not list(client.scan_iter(match=f"{prefix.group(1)}:*", count=1000))
