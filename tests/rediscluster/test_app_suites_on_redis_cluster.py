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
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.services import redis_cluster

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_app_suite_passes_on_a_three_shard_redis_cluster(tmp_path: Path):
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
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "onsale", "-q", "-p", "no:cacheprovider"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    summary = result.stdout.strip().splitlines()[-1:] or [""]
    print(f"onsale/ on a three-shard Redis Cluster: {summary[0]}")
    assert result.returncode == 0, (result.stdout[-6000:], result.stderr[-2000:])
