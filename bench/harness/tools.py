"""The runner's tools: what it installs, what it records of the machine, and
the load generators it drives (wrk through the waiting-room scenario,
redis-benchmark, and the scenarios that write their figures as JSON)."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.harness.stack import Stack
from bench.harness.wrk import wrk_run

ROOT = Path(__file__).resolve().parents[2]


def ensure_tools() -> None:
    """wrk, nginx, envsubst, redis-benchmark from Debian if missing (the
    apt_install of bin/_setup.sh, as bin/test does)."""
    wanted = {
        "wrk": "wrk",
        "nginx": "nginx",
        "envsubst": "gettext-base",
        "redis-benchmark": "redis-tools",
    }
    missing = [
        package
        for tool, package in wanted.items()
        if not (shutil.which(tool) or Path("/usr/sbin", tool).exists())
    ]
    if not missing:
        return
    if not shutil.which("dpkg-query"):
        raise SystemExit(f"install these first: {' '.join(missing)}")
    subprocess.run(
        [
            "bash",
            "-c",
            f'source "{ROOT}/bin/_setup.sh" && RUNLEVEL=1 apt_install {" ".join(missing)}',
        ],
        check=True,
    )


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    busy = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()[:8]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "busiest_processes_at_start": [line.strip() for line in busy],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def wrk(url: str, seconds: float, **options: Any) -> tuple[Any, float]:
    """One wrk run (harness/wrk.py), plus wrk's own CPU as a share of one core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = wrk_run(url, seconds=seconds, **options)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu / elapsed


def redis_benchmark(
    stack: Stack, requests: int, *command: str
) -> tuple[float, float, float]:
    """ops/s, p99 ms and redis-benchmark's CPU share for one command."""
    from urllib.parse import urlparse

    url = urlparse(stack.redis_url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    output = subprocess.run(
        [
            shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark",
            "-h",
            url.hostname or "127.0.0.1",
            "-p",
            str(url.port or 6379),
            "-c",
            "50",
            "-n",
            str(requests),
            "-q",
            "--csv",
            *command,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = [
        line for line in output.splitlines() if line and not line.startswith('"test"')
    ]
    fields = [value.strip('"') for value in row[-1].split('","')]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(fields[1]), float(fields[6]), cpu / elapsed


def subprocess_json(command: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """Run one of bench/scenarios/*.py with --json; its stdout goes through."""
    print("$", " ".join(str(part) for part in command[1:]), flush=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_KEY_PREFIX"}
    }
    process = subprocess.Popen([*command, "--json", str(out)], cwd=ROOT, env=env)
    try:
        code = process.wait(timeout=timeout)
    except BaseException as stop:
        # The benchmark cleans up after itself (its database, Redis keys and
        # servers) on SIGINT: Ctrl-C reached it too (same process group), so
        # only wait; anything else (SIGTERM to us, the timeout) is passed on
        # as one SIGINT. Killing it outright would leave its state behind.
        if not isinstance(stop, KeyboardInterrupt) and process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
    if not out.exists():
        raise RuntimeError(f"{command[1]} exited {code} without figures")
    figures: dict[str, Any] = json.loads(out.read_text())
    figures["exit_code"] = code
    return figures
