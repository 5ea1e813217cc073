"""A child pytest run and what it reports about its failed tests, read back
from the JUnit XML file it wrote (`--junitxml=...` with `CHILD_REPORT_OPTIONS`), so
that a test that runs a whole suite in a child names the inner tests that
failed instead of only the child's summary line."""

from __future__ import annotations

import signal
import subprocess
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

# pytest options that make the child write what `failures_from_junit` reads:
# xunit1 adds each test's file, which turns a test case back into its id;
# -rfE lists the failed and broken tests at the end of its output.
CHILD_REPORT_OPTIONS = ("-o", "junit_family=xunit1", "-rfE")


@dataclass(frozen=True)
class InnerFailure:
    """One failed (`failed`) or broken (`error`: set-up, tear-down,
    collection) test of the child run."""

    test_id: str
    kind: str
    message: str
    details: str

    def describe(self, *, tail_chars: int = 1500) -> str:
        """The test id and the first line of its message on one line, then
        the last `tail_chars` characters of its traceback (where the assertion
        is)."""
        headline = (self.message.splitlines() or [""])[0]
        tail = self.details.strip()[-tail_chars:]
        return f"{self.kind.upper()} {self.test_id}: {headline}\n{tail}"


def _test_id(case: ElementTree.Element) -> str:
    """`path/to/test_file.py::Class::test_name[params]`, as pytest names it."""
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if not file:  # a collection error: the name is the module
        return ".".join(part for part in (classname, name) if part)
    module = file.removesuffix(".py").replace("/", ".")
    inner = classname.removeprefix(module).lstrip(".")
    return "::".join(part for part in (file, inner, name) if part)


def failures_from_junit(path: Path) -> list[InnerFailure]:
    """Every failed or broken test case in the JUnit file, in run order (a
    test that fails and then errors in tear-down counts twice)."""
    # The file is the child's own report, written on this machine a moment ago.
    root = ElementTree.parse(path).getroot()  # noqa: S314
    failures = []
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            for outcome in case.findall(kind):
                failures.append(
                    InnerFailure(
                        test_id=_test_id(case),
                        kind="failed" if kind == "failure" else "error",
                        message=(outcome.get("message") or "").strip(),
                        details=outcome.text or "",
                    )
                )
    return failures


def failures_report(failures: list[InnerFailure], *, tail_chars: int = 1500) -> str:
    """The ids of the failed tests first (one a line), then each one's
    message and traceback tail."""
    if not failures:
        return "no failed test in the JUnit report"
    names = "\n".join(f"  {f.kind.upper()} {f.test_id}" for f in failures)
    details = "\n\n".join(f.describe(tail_chars=tail_chars) for f in failures)
    return f"{len(failures)} inner test(s) failed:\n{names}\n\n{details}"


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool

    @property
    def summary(self) -> str:
        """pytest's last line (`3 failed, 410 passed in ...`)."""
        return (self.stdout.strip().splitlines() or [""])[-1]


def _interruptible() -> None:
    # A run started in the background (`... &` in a script, nohup) ignores
    # SIGINT, and so would the child, which Python then never interrupts:
    # the child starts with the default, which Python turns into
    # KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def child_pytest_run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> ChildRun:
    """Runs the child pytest `command`. One that runs past `timeout` is
    interrupted as Ctrl-C would (pytest then prints the tests that failed so
    far and the traceback of the one it was in, and writes its JUnit file),
    and killed if that does not end it within two minutes."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return ChildRun(process.returncode, stdout, stderr, timed_out=False)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        return ChildRun(process.returncode, stdout, stderr, timed_out=True)
