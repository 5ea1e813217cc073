"""onsale: a virtual waiting room and high-concurrency ticketing platform."""

from onsale.config.celery import app as celery_app

__all__ = ["celery_app"]
