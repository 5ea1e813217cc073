"""bench/scenarios/waitingroom.py: its memory figure at a small size, and its
command line."""

from __future__ import annotations

import pytest


def test_benchmark_memory_measurement_runs_small(db):
    # The benchmark is not part of the suite; its memory figure is cheap
    # enough to check at a small size (more bucket overhead per fan here than
    # at 100,000 fans, so this is a loose upper bound of the real figure).
    from bench.scenarios.waitingroom import memory_per_fan

    figures = memory_per_fan(fans=3000, event_id=880_001)
    assert figures.fans == 3000
    assert 0 < figures.prequeue_bytes_per_fan < 150
    assert 0 < figures.numbered_bytes_per_fan < 150
    assert figures.draw_seconds < 5


@pytest.mark.parametrize("argv", [["--help"]])
def test_benchmark_command_line_parses(argv, capsys):
    from bench.scenarios.waitingroom import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    assert "--accuracy-seconds" in capsys.readouterr().out
