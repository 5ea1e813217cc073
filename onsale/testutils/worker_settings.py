"""Settings of the Celery worker that the end-to-end test starts: the test
settings, pointed at the running test's database, Redis key prefix, media
folder and an email folder the test reads."""

from __future__ import annotations

import os
from pathlib import Path

from onsale.config.settings_test import *  # noqa: F403
from onsale.config.settings_test import DATABASES

DATABASES["default"]["NAME"] = os.environ["ONSALE_WORKER_DATABASE_NAME"]
CELERY_TASK_ALWAYS_EAGER = False
# A drill may point a worker at a mail server of its own instead (SMTP).
EMAIL_BACKEND = os.environ.get(
    "ONSALE_WORKER_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("ONSALE_WORKER_EMAIL_PORT", "25"))
EMAIL_FILE_PATH = os.environ["ONSALE_WORKER_EMAIL_DIR"]
MEDIA_ROOT = Path(os.environ["ONSALE_WORKER_MEDIA_ROOT"])  # a Path, as in settings.py
