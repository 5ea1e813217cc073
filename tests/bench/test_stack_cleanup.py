"""bench/harness/stack.py: interrupted (Ctrl-C) or terminated, a runner leaves
nothing behind: gunicorn, nginx and the Celery worker are gone, its database
is dropped, its Redis keys deleted and its scratch directory removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import MySQLdb
import pytest
import redis

REPO = Path(__file__).resolve().parents[2]

RUNNER = """
import json, signal, sys, time
sys.path.insert(0, {repo!r})
from bench.harness.stack import Stack, exit_on_sigterm
import redis

# Ctrl-C as in a terminal. A suite started in the background (nohup, `cmd &`
# without job control) passes SIGINT down ignored, and Python then installs
# no KeyboardInterrupt handler: the SIGINT case would wait forever.
signal.signal(signal.SIGINT, signal.default_int_handler)
exit_on_sigterm()
with Stack(workers=1, threads=2) as stack:
    redis.Redis.from_url(stack.redis_url).set(stack.prefix + "probe", "1")
    print(json.dumps({{
        "pids": [stack.web.pid, stack.proxy.pid, stack.celery.pid],
        "database": stack.database,
        "prefix": stack.prefix,
        "work": str(stack.work),
        "redis_url": stack.redis_url,
    }}), flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _databases() -> set[str]:
    connection = MySQLdb.connect(host="127.0.0.1", port=3306, user="root", passwd="")
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW DATABASES LIKE 'onsale_bench_%'")
        return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_removes_everything_it_started(signum: int):
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER.format(repo=str(REPO))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert runner.stdout is not None
        line = runner.stdout.readline()
        assert line, runner.stderr.read() if runner.stderr else ""
        started = json.loads(line)
        client = redis.Redis.from_url(started["redis_url"])
        # Up and running: the processes, the database, the keys, the files.
        assert all(_alive(pid) for pid in started["pids"])
        assert started["database"] in _databases()
        assert client.exists(started["prefix"] + "probe")
        assert Path(started["work"]).is_dir()

        runner.send_signal(signum)
        # Each of the three processes gets up to 20 s to stop before SIGKILL.
        try:
            runner.wait(timeout=120)
        except subprocess.TimeoutExpired:
            runner.kill()
            _, errors = runner.communicate()
            pytest.fail(f"the run did not end; its stderr:\n{errors[-4000:]}")
        assert runner.stderr is not None
        errors = runner.stderr.read()
        print(errors[-2000:])  # slow stops are reported there

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_alive, started["pids"])):
            time.sleep(0.2)
        assert not any(map(_alive, started["pids"]))
        assert started["database"] not in _databases()
        assert not list(client.scan_iter(match=started["prefix"] + "*", count=1000))
        assert not Path(started["work"]).exists()
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
