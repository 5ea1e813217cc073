"""Settings of the end-to-end stack's gunicorn and Celery worker: the worker
settings of the checkout tests (the running test's database, Redis key
prefix, media and email folders, tasks sent to the broker, not run eagerly),
plus URLs that also serve /static/ (nginx does that in production)."""

from __future__ import annotations

from onsale.checkout.tests.worker_settings import *  # noqa: F403

ROOT_URLCONF = "tests.e2e.urls"
