"""ASGI entry point: the seat stream service runs it (gunicorn with
WEB_ASGI=true, see gunicorn.conf.py and onsale/config/asgi_worker.py), so an
open server-sent event stream waits on the event loop instead of a thread."""

import os

from onsale.platform.observability.newrelic import newrelic_initialize

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onsale.config.settings")
newrelic_initialize()

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
