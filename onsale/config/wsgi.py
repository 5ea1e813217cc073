"""WSGI entry point for gunicorn."""

import os

from onsale.platform.observability.newrelic import newrelic_initialize

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.config.settings")
newrelic_initialize()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
