"""ASGI entry point (for the server-sent event streams)."""

import os

from onsale.platform.newrelic_agent import newrelic_initialize

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.platform.settings")
newrelic_initialize()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
