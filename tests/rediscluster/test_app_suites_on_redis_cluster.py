"""The application's own test suites, run again against a Redis Cluster.

With REDIS_CLUSTER on, the platform's client routes every command, script and
pipeline part by key slot across the shards. This runs every test under
`onsale/` (the queue, admission, holds, streams, checkout, accounts) in a
child pytest whose REDIS_URL is a throwaway three-shard cluster on
127.0.0.1, with Django's cache and sessions and the Celery broker on the
ordinary Redis, as production runs them. A script that touches keys of two
events, a key outside an event's hash tag or a command the cluster client
refuses fails there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from django.conf import settings

from onsale.testutils.timing import scaled
from tests.rediscluster.child_report import (
    CHILD_REPORT_OPTIONS,
    child_pytest_run,
    failures_from_junit,
    failures_report,
)
from tests.services import redis_cluster

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_app_suite_passes_on_a_three_shard_redis_cluster(tmp_path: Path):
    junit = tmp_path / "child-junit.xml"
    # A hang detector, not a budget: about three times what the child takes
    # on an idle machine, more on a busy one.
    timeout = scaled(1200)
    with redis_cluster(tmp_path, shards=3) as cluster_url:
        env = {
            **os.environ,
            "REDIS_CLUSTER": "true",
            "TEST_REDIS_URL": cluster_url,
            "REDIS_URL": cluster_url,
            "CACHE_REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.REDIS_URL,
        }
        # The child picks its own key prefix and database from its pid.
        env.pop("REDIS_KEY_PREFIX", None)
        child = child_pytest_run(
            [
                sys.executable,
                "-m",
                "pytest",
                "onsale",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                *CHILD_REPORT_OPTIONS,
            ],
            cwd=REPO,
            env=env,
            timeout=timeout,
        )
    summary = child.summary
    failures = failures_from_junit(junit) if junit.exists() else []
    report = failures_report(failures) if failures else ""
    print(f"onsale/ on a three-shard Redis Cluster: {summary}")
    if report:
        print(report)
    if child.timed_out:
        pytest.fail(
            f"the child pytest ran past {timeout:.0f} s and was interrupted: "
            f"{summary}\n{report}\n{child.stdout[-4000:]}\n{child.stderr[-2000:]}"
        )
    assert child.returncode == 0, (
        f"{summary}\n{report}"
        if failures
        # Nothing failed in the JUnit file (the child could not start, or
        # failed outside any test): its own output says why.
        else f"{summary}\n{child.stdout[-6000:]}\n{child.stderr[-2000:]}"
    )
