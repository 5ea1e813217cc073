"""Helpers shared by the tests of several apps, tests/ and bench/:

- factories.py: factory_boy factories of organizations, users and events;
- seats.py: the small seat map, seat ids, admitted clients, holds, parallel
  runs and the Redis seat state;
- checkout.py: an event on sale, the Shopper fan, checkout requests;
- waitingroom.py: changing a room's configuration;
- fixtures.py: the shared pytest fixtures, loaded as a plugin by the root
  conftest.py;
- timing.py: time budgets sized to how busy the machine is, and waiting on
  many things as long as they keep finishing;
- worker_*.py, worker.py: the Celery worker that tests and benchmarks start
  on their own (its settings, app and command line, and the `worker_start`
  fixture).

A plain package, not a Django app: nothing in production imports it, and it
holds no models.

They live here rather than in one app's tests/ so that no test imports
another app's tests (STYLE.md, "Tests")."""
