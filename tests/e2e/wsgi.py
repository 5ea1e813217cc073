"""WSGI entry of the end-to-end stack's gunicorn: the project's application,
publishing Celery tasks under the stack's own broker key prefix (the one its
worker consumes, see onsale/testutils/worker_app.py)."""

from __future__ import annotations

from django.core.wsgi import get_wsgi_application

import onsale.testutils.worker_app  # noqa: F401 - sets the broker key prefix

application = get_wsgi_application()
