"""Project wiring: settings, URLs, the Celery app, the WSGI/ASGI entry points.

It imports every app and no app imports it (the top of the layer order in
ARCHITECTURE.md).
"""
