"""Every performance script of onsale, in one place.

- `run.py`: the one-command runner (every benchmark side by side, a table,
  JSON and a chart);
- `harness/`: what the runner and the scenarios share: the local stack they
  start (`stack.py`) and the constant-rate load generator (`constant_rate.py`);
- `scenarios/`: one benchmark per file, each runnable alone
  (`waitingroom`, `holds`, `checkout`, `join_cpu`, `redis_cluster`);
- `locust/`: the on-sale rush in Locust, with its checks (`run.py`);
- `wrk/`: the wrk scripts the scenarios drive.

The Celery worker they start comes from `onsale.testutils`, shared with the
tests."""
