"""The Celery app for the end-to-end test's worker: the project's app with
its broker keys under the test run's prefix, so the worker never takes tasks
of another run sharing the Redis (and no other worker takes this run's)."""

from __future__ import annotations

import os

from onsale.config.celery import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "global_keyprefix": os.environ["ONSALE_BROKER_KEY_PREFIX"],
}

__all__ = ["app"]
