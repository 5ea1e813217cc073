"""Helpers shared by the tests of several apps, tests/ and bench/: the Celery
worker that tests and benchmarks start on their own (its settings, app and
command line, and the `worker_start` fixture). A plain package, not a Django
app: nothing in production imports it, and it holds no models.

They live here rather than in one app's tests/ so that no test imports
another app's tests (STYLE.md, "Tests")."""
