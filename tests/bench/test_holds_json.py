"""The figures bench/run.py reads from bench/scenarios/holds.py --json: one
entry per scenario, attempts fully accounted for, the ratio the table shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_holds_writes_its_figures_as_json(tmp_path: Path):
    out = tmp_path / "holds.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "scenarios" / "holds.py"),
            "--attempts",
            "400",
            "--clients",
            "8",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        # Its own Redis prefix (it deletes every key under it at the end),
        # not this test run's.
        env={
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_KEY_PREFIX", "DJANGO_SETTINGS_MODULE"}
        },
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["attempts"] == 400 and figures["failures"] == 0
    assert [scenario["hot"] for scenario in figures["scenarios"]] == [True, False]
    for scenario in figures["scenarios"]:
        for side in ("lua", "mysql"):
            answered = sum(
                scenario[f"{side}_{outcome}"]
                for outcome in ("granted", "refused", "errors")
            )
            assert answered == 400
            assert scenario[f"{side}_double_holds"] == 0
            assert scenario[f"{side}_holds_per_second"] > 0
        assert scenario["ratio"] == (
            scenario["lua_holds_per_second"] / scenario["mysql_holds_per_second"]
        )
        # The human-readable output is still there, with the same ratio.
        assert f"ratio (Lua / MySQL): {scenario['ratio']:.1f}x" in result.stdout
