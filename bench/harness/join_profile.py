"""Where a join's time goes: py-spy on the gunicorn workers while wrk joins
(bench/run.py --profile, on in the full run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness.report import Report
from bench.harness.stack import Stack
from bench.harness.tools import wrk
from bench.scenarios import waitingroom as waitingroom_bench


def profile_join(
    report: Report, stack: Stack, out: Path, credentials: Path, staff: Any
) -> None:
    """py-spy on one gunicorn worker while wrk joins; where the time goes."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists() or stack.web is None:
        print("py-spy not found: no profile", flush=True)
        return
    children = (
        Path(f"/proc/{stack.web.pid}/task/{stack.web.pid}/children").read_text().split()
    )
    if not children:
        return
    event = waitingroom_bench._room(
        staff=staff, state="open", rate_per_minute=600, burst=50
    )
    load = threading.Thread(
        target=wrk,
        args=(stack.origin, 20),
        kwargs={
            "threads": 1,
            "connections": 32,
            "script": waitingroom_bench.JOIN_SCRIPT,
            "script_args": [
                str(credentials),
                f"/api/v1/events/{event}/queue",
                "1",
                "0",
            ],
        },
    )
    load.start()
    time.sleep(1)
    # Two views of the same load: every sampled thread (wall time: where a
    # request waits), and only the thread holding the GIL (Python CPU). Every
    # worker is sampled at once: which worker accepts wrk's keep-alive
    # connections is up to the kernel, so one of them may get them all.
    for name, extra in (("wall", []), ("gil", ["--gil"])):
        raw = out / f"join-profile-{name}.txt"
        parts = [out / f"join-profile-{name}-{pid}.txt" for pid in children]
        samplers = [
            subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    pid,
                    "--duration",
                    "8",
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(part),
                    "--nonblocking",
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for pid, part in zip(children, parts, strict=True)
        ]
        errors = [sampler.communicate()[1] for sampler in samplers]
        raw.write_text("".join(part.read_text() for part in parts if part.exists()))
        for part in parts:
            part.unlink(missing_ok=True)
        if raw.stat().st_size:
            report.raw[f"join_profile_{name}"] = profile_summary(raw)
        else:
            report.raw[f"join_profile_{name}_error"] = b"".join(errors)[-500:].decode(
                errors="replace"
            )
    load.join()


# Where a join's time goes: each sample is charged to the package of the
# innermost frame that belongs to one of these (py-spy leaves idle threads out,
# so these are shares of the time the worker's threads were running or
# waiting on a socket inside a request).
PROFILE_PACKAGES = (
    ("Redis (redis-py: send, wait, parse)", "redis/"),
    ("MySQL (MySQLdb, Django's db layer)", ("MySQLdb/", "django/db/")),
    ("gunicorn (HTTP read/write)", "gunicorn/"),
    ("DRF", "rest_framework/"),
    ("knox", "knox/"),
    ("onsale code", "onsale/"),
    ("Django (other)", "django/"),
)


def _package(frame: str) -> str | None:
    for name, markers in PROFILE_PACKAGES:
        if any(
            marker in frame
            for marker in ((markers,) if isinstance(markers, str) else markers)
        ):
            return name
    return None


def profile_summary(raw: Path) -> dict[str, Any]:
    total = 0
    packages: dict[str, int] = {}
    leaves: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        owner = next(
            (name for name in map(_package, reversed(frames)) if name), "other"
        )
        packages[owner] = packages.get(owner, 0) + count
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
    top = sorted(leaves.items(), key=lambda item: -item[1])[:15]
    return {
        "samples": total,
        "share_by_package": {
            name: count / total
            for name, count in sorted(packages.items(), key=lambda item: -item[1])
        }
        if total
        else {},
        "top_leaf_frames": [(leaf, count / total) for leaf, count in top]
        if total
        else [],
    }
