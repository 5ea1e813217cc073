"""The Locust on-sale scenario runs for real, briefly, and its checks pass:
stack up, fans through join -> status -> claim -> hold -> checkout, the
organizer's rate change, bots refused, then no 5xx, no oversell and admission
within the token bucket's bounds (bench/locust/run.py exits 0)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_on_sale_scenario_passes_its_checks(tmp_path: Path):
    out = tmp_path / "locust"
    # More fans than ~30 s at 60-120/min admit, so the lower admission bound
    # is tested too, not only "everyone who joined was served".
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "locust" / "run.py"),
            "--duration",
            "25",
            "--users",
            "50",
            "--spawn-rate",
            "50",
            "--fans",
            "150",
            "--bots",
            "3",
            "--seats",
            "300",
            "--rate",
            "60",
            "--burst",
            "10",
            "--rate-changes",
            "0.5:120",
            "--prequeue-seconds",
            "4",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "all checks passed" in result.stdout

    checks = json.loads((out / "checks.json").read_text())
    assert checks["problems"] == []
    sale, admission = checks["sale"], checks["admission"]
    # Fans got through to paid orders, and the three stores agree.
    assert 0 < sale["mysql_seat_sales"] <= 300
    assert sale["mysql_seat_sales"] == sale["redis_sold"] == sale["paid_order_lines"]
    # The organizer's change was applied and the queue was longer than the
    # admissions, so admission was bounded by the rate.
    assert len(admission["rate_changes"]) == 1
    assert admission["issued"] > admission["admitted"] > 10
    assert admission["lower_bound"] <= admission["admitted"] <= admission["upper_bound"]

    with (out / "locust_stats.csv").open() as handle:
        requests = {
            row["Name"]: int(row["Request Count"]) for row in csv.DictReader(handle)
        }
    for name in ("join", "status", "me (claim)", "checkout", "bot: join", "bot: hold"):
        assert requests.get(name, 0) > 0, (name, requests)
    assert (out / "report.html").stat().st_size > 10_000
