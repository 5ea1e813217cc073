#!/usr/bin/env python
"""What REDIS_CLUSTER costs the application per Redis call.

    .venv/bin/python bench/scenarios/redis_cluster.py            # ~30 s
    .venv/bin/python bench/scenarios/redis_cluster.py --calls 2000 --rounds 3

The same calls through the platform's two kinds of client, side by side in
interleaved rounds (medians):
- plain: `redis.Redis` on the local Redis (127.0.0.1:6379), as REDIS_CLUSTER
  off runs;
- cluster: `redis.cluster.RedisCluster` on a throwaway three-shard Redis
  Cluster on 127.0.0.1 (started here, stopped at the end), as REDIS_CLUSTER on
  runs.

The calls: a GET; the platform's rate-limit script (EVALSHA, one key, as every
join and sign-in runs it); a pipeline of ten HGETs on ten events' keys (on the
cluster they span the shards, as the ops status and metrics reads do).

For each: wall time per call, and the CPU this process spent per call
(`time.process_time`, so a busy machine hardly moves it). The cluster spreads
events over shards, which is what it is for; on this 2-core machine the shards
share the cores, so only the client's own cost is measured here, not the
throughput that more machines would add.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from redis.cluster import RedisCluster

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from onsale.platform.redis import LuaScript  # noqa: E402
from tests.services import redis_cluster  # noqa: E402

PREFIX = f"onsale-bench-cluster-{int(time.time())}:"
LUA = ROOT / "onsale" / "platform" / "lua"
RATELIMIT = LuaScript(LUA / "ratelimit.lua", [LUA / "_fixed_window.lua"])


def _key(event_id: int, name: str) -> str:
    return f"{PREFIX}ev:{{ev:{event_id}}}:{name}"


def _seed(client: Any) -> None:
    for event_id in range(10):
        client.set(_key(event_id, "version"), event_id)
        client.hset(_key(event_id, "cfg"), "state", "open")


def _calls(client: Any) -> dict[str, Callable[[int], Any]]:
    def get(index: int) -> Any:
        return client.get(_key(index % 10, "version"))

    def script(index: int) -> Any:
        allowed, _hits, _ttl = RATELIMIT(
            keys=[_key(index % 10, "rl")], args=[1_000_000_000, 60_000], client=client
        )
        return allowed

    def pipeline(index: int) -> Any:
        pipe = client.pipeline(transaction=False)
        for event_id in range(10):
            pipe.hget(_key(event_id, "cfg"), "state")
        return pipe.execute()

    return {"GET": get, "rate-limit script": script, "pipeline of 10 HGET": pipeline}


# What each call answers for index 0, on either client.
EXPECTED = {"GET": "0", "rate-limit script": 1, "pipeline of 10 HGET": ["open"] * 10}


def _measure(name: str, call: Callable[[int], Any], calls: int) -> tuple[float, float]:
    """(wall µs, this process's CPU µs) per call."""
    # Connections open and the script loaded; a wrong answer stops the run.
    answer = call(0)
    if answer != EXPECTED[name]:
        raise SystemExit(f"{name}: answered {answer!r}, not {EXPECTED[name]!r}")
    wall, cpu = time.perf_counter(), time.process_time()
    for index in range(calls):
        call(index)
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="the plain Redis"
    )
    args = parser.parse_args()

    plain = redis.Redis.from_url(args.redis_url, decode_responses=True)
    plain.ping()
    print(f"Redis prefix {PREFIX}, plain Redis {args.redis_url}")
    with tempfile.TemporaryDirectory() as work, redis_cluster(Path(work)) as url:
        cluster: RedisCluster = RedisCluster.from_url(url, decode_responses=True)
        clients = {"plain": plain, "cluster": cluster}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        try:
            for client in clients.values():
                _seed(client)
            for _ in range(args.rounds):
                for mode, client in clients.items():
                    for name, call in _calls(client).items():
                        results.setdefault((name, mode), []).append(
                            _measure(name, call, args.calls)
                        )
        finally:
            for key in plain.scan_iter(match=PREFIX + "*"):
                plain.delete(key)
            cluster.close()

    print(
        f"Redis calls through the plain and the cluster client "
        f"({args.rounds} rounds of {args.calls:,} calls, medians)\n"
    )
    print(
        f"{'call':<22}{'plain wall':>12}{'cluster wall':>14}{'plain CPU':>12}"
        f"{'cluster CPU':>13}{'CPU ratio':>11}"
    )
    for name in _calls(plain):
        figures = {
            mode: (
                statistics.median(wall for wall, _ in results[(name, mode)]),
                statistics.median(cpu for _, cpu in results[(name, mode)]),
            )
            for mode in clients
        }
        (plain_wall, plain_cpu), (cluster_wall, cluster_cpu) = (
            figures["plain"],
            figures["cluster"],
        )
        print(
            f"{name:<22}{plain_wall:>10.0f}µs{cluster_wall:>12.0f}µs"
            f"{plain_cpu:>10.0f}µs{cluster_cpu:>11.0f}µs"
            f"{cluster_cpu / plain_cpu:>10.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
