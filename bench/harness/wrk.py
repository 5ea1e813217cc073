"""wrk, the closed-loop HTTP load generator (bench/harness/constant_rate.py
is the open-loop one): one run, its figures parsed from wrk's output, and the
server's own CPU per request measured around it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK = shutil.which("wrk") or "/usr/bin/wrk"


@dataclass(frozen=True)
class WrkResult:
    """One wrk run's figures, as wrk printed them (latencies keep its units)."""

    requests_per_second: float
    requests: int
    non_2xx: int
    errors: str
    p50: str
    p99: str
    # gunicorn's own CPU time (master and workers) per request: unlike the
    # rate, hardly moved by other work on the machine.
    server_cpu_ms: float | None = None


def server_cpu_seconds(root_pid: int) -> float:
    """User + system CPU of `root_pid` and its children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, ... utime (12th), stime (13th).
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def wrk_run(
    url: str,
    *,
    seconds: float,
    threads: int,
    connections: int,
    script: Path | None = None,
    script_args: list[str] | None = None,
    server_pid: int | None = None,
) -> WrkResult:
    """Runs wrk against `url` (with a Lua `script` and its arguments, if any);
    with `server_pid`, also the server's CPU per request over the run."""
    command = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    cpu_before = server_cpu_seconds(server_pid) if server_pid else 0.0
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_used = server_cpu_seconds(server_pid) - cpu_before if server_pid else None
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors_match = re.search(r"Socket errors: (.*)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    return WrkResult(
        requests_per_second=rate,
        requests=total,
        non_2xx=int(non_2xx_match.group(1)) if non_2xx_match else 0,
        errors=errors_match.group(1).strip() if errors_match else "",
        p50=p50.group(1) if p50 else "?",
        p99=p99.group(1) if p99 else "?",
        server_cpu_ms=None if cpu_used is None else cpu_used * 1000 / max(total, 1),
    )


def wrk_median(results: list[WrkResult]) -> WrkResult:
    """The run of median rate among `results`."""
    ordered = sorted(results, key=lambda result: result.requests_per_second)
    return ordered[len(ordered) // 2]
