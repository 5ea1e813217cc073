"""bench/scenarios/seat_map.py runs, briefly and on a small map, in Debian's
Chromium: the map drew every seat (the script exits non-zero otherwise), the
figures are printed, and its database and keys are gone afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed"
)
def test_the_seat_map_benchmark_prints_its_figures_and_cleans_up():
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "scenarios" / "seat_map.py"),
            "--blocks",
            "1",
            "1",
            "--pan-seconds",
            "0.5",
            "--no-nginx",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out[-4000:] + err[-4000:]
    assert "[seat map bench] 2,500 seats, throttled phone" in out
    assert re.search(r"first full draw \d+ ms after navigation start", out), out
    assert re.search(r"\[seat map bench\] pan: [\d.]+ frames/s", out), out
    assert re.search(r"\[seat map bench, zoomed in\] pan: [\d.]+ frames/s", out), out
    # the stack's keys (bench/harness/stack.py: prefix onsale-bench-<pid>:) are gone
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert not list(client.scan_iter(match=f"onsale-bench-{process.pid}:*"))
