"""Test settings: the base settings with a handful of overrides.

Each test run gets its own MySQL database and its own Redis key prefix (both
carry the process id), so several runs can share one MariaDB and one Redis.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef"
)
os.environ.setdefault("DATABASE_URL", "mysql://root@127.0.0.1:3306/onsale")
os.environ.setdefault("ONSALE_PUBLIC_URL", "https://tickets.example.test")
os.environ.setdefault("REDIS_KEY_PREFIX", f"onsale-test-{os.getpid()}:")

from onsale.config.settings import *  # noqa: F403
from onsale.config.settings import DATABASES, REDIS_KEY_PREFIX

DATABASES["default"].setdefault("TEST", {})["NAME"] = f"test_onsale_{os.getpid()}"
# Persistent connections would be shared across test threads' lifetimes.
DATABASES["default"]["CONN_MAX_AGE"] = 0

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
# Fast hashing in tests; production keeps Argon2 first (a test checks it).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Access tokens signed with a key derived from SECRET_KEY (no PEM in tests).
WAITINGROOM_JWT_DEV_KEY = True
TEST_REDIS_KEY_PREFIX = REDIS_KEY_PREFIX
# Tests open streams with the test client and do not always close them; the
# WSGI stream limit has tests of its own that set it.
SEAT_STREAM_WSGI_MAX_PER_PROCESS = 1000
