"""The asyncio cluster client the seat streams read through waits for a free
connection instead of failing when many commands arrive at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio.cluster
from redis.exceptions import MaxConnectionsError

from onsale.platform.pubsub import WaitingRedisCluster
from tests.services import redis_cluster


async def _burst(client: redis.asyncio.cluster.RedisCluster, count: int) -> list[int]:
    try:
        # Keys of one slot: every command goes to the same node.
        return list(
            await asyncio.gather(*(client.incr("{burst}:n") for _ in range(count)))
        )
    finally:
        await client.aclose()


def test_a_burst_of_commands_waits_for_the_nodes_connections(tmp_path: Path):
    with redis_cluster(tmp_path, shards=3) as url:
        # redis-py's own client refuses what its node cannot take at once ...
        plain = redis.asyncio.cluster.RedisCluster.from_url(url, max_connections=2)
        with pytest.raises(MaxConnectionsError):
            asyncio.run(_burst(plain, 50))
        # ... ours runs them all, two at a time.
        waiting = WaitingRedisCluster.from_url(url, max_connections=2)
        counts = asyncio.run(_burst(waiting, 50))
    assert len(counts) == 50 and max(counts) - min(counts) == 49
