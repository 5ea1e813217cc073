"""onsale: a virtual waiting room and high-concurrency ticketing platform."""

from onsale.platform.celery import app as celery_app

__all__ = ["celery_app"]
