"""The child run's report (tests/rediscluster/child_report.py): a real child
pytest over a few small tests that pass, fail, break and hang, and what the
parent reads back from it."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from onsale.testutils.timing import scaled
from tests.rediscluster.child_report import (
    CHILD_REPORT_OPTIONS,
    ChildRun,
    child_pytest_run,
    failures_from_junit,
    failures_report,
)

SUITE = {
    "pkg/tests/test_mixed.py": """
        import pytest

        def test_passes():
            assert True

        def test_compares_streams():
            served = 199
            assert served == 200, "not every stream was served"

        class TestRoom:
            def test_admits(self):
                raise RuntimeError("the room is shut")

        @pytest.mark.parametrize("shards", [1, 3])
        def test_shards(shards):
            assert shards == 1

        @pytest.fixture
        def broken():
            raise OSError("no Redis here")

        def test_uses_broken(broken):
            pass
        """,
    "pkg/tests/test_fine.py": """
        def test_fine():
            assert 1 + 1 == 2
        """,
    "pkg/tests/test_hangs.py": """
        import time

        def test_waits_forever():
            time.sleep(600)
        """,
}


def _child(tmp_path: Path, *paths: str, timeout: float = 120) -> tuple[Path, ChildRun]:
    for name, text in SUITE.items():
        file = tmp_path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    junit = tmp_path / "junit.xml"
    # Without the project's plugins (Django, schemathesis) the child starts in
    # a moment, so the hang below is the only thing that can run past time.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    run = child_pytest_run(
        [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            *CHILD_REPORT_OPTIONS,
        ],
        cwd=tmp_path,
        env=env,
        timeout=timeout,
    )
    return junit, run


def test_every_failed_and_broken_inner_test_is_named_with_its_failure(tmp_path):
    junit, run = _child(tmp_path, "pkg/tests/test_mixed.py", "pkg/tests/test_fine.py")

    failures = failures_from_junit(junit)

    assert run.returncode == 1 and not run.timed_out
    assert run.summary.startswith("3 failed, 3 passed, 1 error")
    assert [(f.kind, f.test_id) for f in failures] == [
        ("failed", "pkg/tests/test_mixed.py::test_compares_streams"),
        ("failed", "pkg/tests/test_mixed.py::TestRoom::test_admits"),
        ("failed", "pkg/tests/test_mixed.py::test_shards[3]"),
        ("error", "pkg/tests/test_mixed.py::test_uses_broken"),
    ]
    streams, room, _, broken = failures
    assert streams.message.startswith("AssertionError: not every stream was served")
    assert "assert 199 == 200" in streams.details
    assert room.message == "RuntimeError: the room is shut"
    assert "OSError: no Redis here" in broken.details
    # the report names them first, then gives each one's failure
    report = failures_report(failures)
    assert report.splitlines()[:5] == [
        "4 inner test(s) failed:",
        "  FAILED pkg/tests/test_mixed.py::test_compares_streams",
        "  FAILED pkg/tests/test_mixed.py::TestRoom::test_admits",
        "  FAILED pkg/tests/test_mixed.py::test_shards[3]",
        "  ERROR pkg/tests/test_mixed.py::test_uses_broken",
    ]
    assert "assert 199 == 200" in report
    # -rfE: the child's own output lists them too
    assert "FAILED pkg/tests/test_mixed.py::TestRoom::test_admits" in run.stdout
    assert "ERROR pkg/tests/test_mixed.py::test_uses_broken" in run.stdout


def test_a_run_with_nothing_failed_reports_no_failure(tmp_path):
    junit, run = _child(tmp_path, "pkg/tests/test_fine.py")

    assert run.returncode == 0
    assert failures_from_junit(junit) == []
    assert failures_report([]) == "no failed test in the JUnit report"


def test_the_traceback_tail_keeps_the_end_of_a_long_failure(tmp_path):
    junit, _ = _child(tmp_path, "pkg/tests/test_mixed.py")
    (streams, *_) = failures_from_junit(junit)

    described = streams.describe(tail_chars=40)

    first_line, tail = described.split("\n", 1)
    assert first_line.startswith(
        "FAILED pkg/tests/test_mixed.py::test_compares_streams: AssertionError"
    )
    assert len(tail) == 40
    assert streams.details.strip().endswith(tail)


@pytest.mark.slow
def test_a_child_that_hangs_is_interrupted_and_says_where(tmp_path):
    # even from a parent that ignores Ctrl-C, as one started in the
    # background by a script does
    ignoring = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        junit, run = _child(
            tmp_path,
            "pkg/tests/test_fine.py",
            "pkg/tests/test_hangs.py",
            timeout=scaled(5),
        )
    finally:
        signal.signal(signal.SIGINT, ignoring)

    assert run.timed_out
    assert run.returncode == 2  # pytest's "interrupted"
    assert "KeyboardInterrupt" in run.stdout
    assert "test_hangs.py:5: KeyboardInterrupt" in run.stdout
    assert junit.exists()  # written on the way out
