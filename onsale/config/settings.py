"""Settings for every onsale process: web, Celery worker and beat.

Everything comes from the environment through the typed helpers in `env.py`;
`.env.example` lists every variable with its default. With nothing set, the
project runs on the embedded defaults: SQLite in `var/` and the local Redis.
"""

from __future__ import annotations

import re
import socket
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from onsale.platform.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
    process_serves,
)

# Lets Django's generic classes be subscripted at run time (ModelAdmin[User]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("ONSALE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

# Which part of the platform this process serves (see urls.py). Every
# Kubernetes Deployment runs the same image with its own value.
ONSALE_SERVICE = env_str("ONSALE_SERVICE", "all")
ONSALE_SERVICES = (
    "all",
    "usermgmt",
    "waitingroom",
    "seatselection",
    "seatstream",
    "checkout",
    "orders",
)
if ONSALE_SERVICE not in ONSALE_SERVICES:
    raise ImproperlyConfigured(
        f"ONSALE_SERVICE must be one of {', '.join(ONSALE_SERVICES)}, "
        f"not {ONSALE_SERVICE!r}."
    )
SERVICE_NAME = f"onsale-{ONSALE_SERVICE}"
HOSTNAME = env_str("HOSTNAME", socket.gethostname())

# Outside debug mode a process that serves (gunicorn, Celery worker and beat,
# runserver) refuses to start without its secrets. A management command that
# serves nothing (migrate, check, createsuperuser, demo_load, collectstatic)
# starts without them and fails, with Django's or our message naming the
# setting, only if it uses a missing one.
ONSALE_SERVES = process_serves()
if DEBUG:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-change-me-0123456789"
    )
elif ONSALE_SERVES:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY")
else:
    # Empty: Django refuses any use of it ("The SECRET_KEY setting must not be
    # empty"), so nothing is ever signed with a made-up key.
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")

# The address fans reach the site at (scheme://host[:port], optionally a
# path), without a trailing slash: the base of every absolute link, in the
# emails above all (a mail client cannot follow /orders/2/). Like the secret
# key, required to serve outside debug mode; a malformed value stops any
# process at start.
if DEBUG:
    ONSALE_PUBLIC_URL = env_str("ONSALE_PUBLIC_URL", "http://localhost:8000")
elif ONSALE_SERVES:
    ONSALE_PUBLIC_URL = env_required("ONSALE_PUBLIC_URL")
else:
    ONSALE_PUBLIC_URL = env_str("ONSALE_PUBLIC_URL", "")
ONSALE_PUBLIC_URL = ONSALE_PUBLIC_URL.rstrip("/")
if ONSALE_PUBLIC_URL and not re.fullmatch(
    r"https?://[^\s/?#@]+(/[^\s?#]*)?", ONSALE_PUBLIC_URL
):
    raise ImproperlyConfigured(
        "ONSALE_PUBLIC_URL must be an http(s) address such as "
        f"https://tickets.example.com, not {ONSALE_PUBLIC_URL!r}."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The branded 403 page (reload and send again), not Django's bare one.
CSRF_FAILURE_VIEW = "onsale.platform.exceptions.csrf_failure"

# The payment provider: only the built-in fake exists today ("fake"); a Stripe
# adapter would add its own name and keys. Read here because it decides which
# apps are installed: the fake provider's ledger tables exist only with it.
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "fake")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "onsale.platform",
    "onsale.usermgmt",
    "onsale.events",
    "onsale.waitingroom",
    "onsale.seatselection",
    "onsale.payments",
    *(["onsale.payments.fake"] if PAYMENT_GATEWAY == "fake" else []),
    "onsale.checkout",
    "onsale.orders",
    # Reads the apps above (their selectors), so it comes after them.
    "onsale.console",
    # Project wiring last: its demo_load command reads every app.
    "onsale.config",
]

MIDDLEWARE = [
    "onsale.platform.middleware.RequestContextMiddleware",
    # A page whose MySQL or Redis is down answers 503, not 500 (as the API).
    "onsale.platform.middleware.DependencyOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app server (bin/run has no nginx); in
    # front of everything that touches the session or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "onsale.platform.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (Django's order) and before CommonMiddleware, so every
    # view, form and error page below runs in the fan's language; Django's,
    # forgetting the language when the response is done.
    "onsale.platform.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "onsale.config.urls"
WSGI_APPLICATION = "onsale.config.wsgi.application"
ASGI_APPLICATION = "onsale.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# SQLite for the embedded demo; MySQL/MariaDB when DATABASE_URL points at it.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    _db = dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "onsale.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Django's default for MySQL; the concurrency rules rely on it.
            "isolation_level": "read committed",
            # A row lock waited for longer than this fails the statement;
            # the API answers 409 with Retry-After (platform/db.py) instead
            # of holding the worker for InnoDB's default 50 seconds.
            "init_command": (
                "SET sql_mode='STRICT_TRANS_TABLES', innodb_lock_wait_timeout="
                f"{env_int('DB_LOCK_WAIT_TIMEOUT_SECONDS', 5)}"
            ),
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
            # A MySQL that stops answering fails the query (OperationalError
            # -> 503 with Retry-After) instead of holding the worker until
            # gunicorn kills it (docs/reliability.md). The client retries a
            # read, so a read gives up after about three times this; keep
            # that under GUNICORN_TIMEOUT. A job that runs long statements (a
            # migration on a big table) sets a larger DB_READ_TIMEOUT for itself.
            "read_timeout": env_int("DB_READ_TIMEOUT", 8),
            "write_timeout": env_int("DB_WRITE_TIMEOUT", 8),
        }
    )
    # A kept connection is pinged once per request before its first query, so
    # a request never fails on a connection a DB failover killed. Off, that
    # ping is saved (about 5 % of a join's CPU) and the first request on each
    # stale connection answers 503 instead.
    _db["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
    _db.setdefault("TEST", {}).update(
        {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions, Celery -----------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Every key the platform writes starts with this prefix, so several
# deployments (or test runs) can share one Redis.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX", "onsale:")
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 2.0)
# REDIS_URL names a node of a Redis Cluster (ElastiCache: the configuration
# endpoint): the queue, holds, rate limits and account checks then spread
# over its shards, one event's keys on one shard (they share a hash tag).
# Django's cache and sessions (django-redis) and the Celery broker cannot use
# a cluster: CACHE_REDIS_URL and CELERY_BROKER_URL must then name a
# non-cluster Redis.
REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)
CACHE_REDIS_URL = env_str("CACHE_REDIS_URL") or ("" if REDIS_CLUSTER else REDIS_URL)
if REDIS_CLUSTER and not (CACHE_REDIS_URL and env_str("CELERY_BROKER_URL")):
    raise ImproperlyConfigured(
        "REDIS_CLUSTER is on: set CACHE_REDIS_URL (sessions and cache) and "
        "CELERY_BROKER_URL to a Redis that is not a cluster."
    )

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX + "cache",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
        },
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CACHE_REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "usermgmt.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "usermgmt:login"
LOGIN_REDIRECT_URL = "usermgmt:account"
LOGOUT_REDIRECT_URL = "usermgmt:login"

# Failed sign-ins allowed per window, counted in Redis so a restart or another
# pod does not reset them: per account from one client address (a stranger
# cannot lock the owner out) and per address; successes do not count (many
# fans share one address behind a NAT).
LOGIN_MAX_ATTEMPTS_PER_ACCOUNT = env_int("LOGIN_MAX_ATTEMPTS_PER_ACCOUNT", 5)
LOGIN_MAX_ATTEMPTS_PER_IP = env_int("LOGIN_MAX_ATTEMPTS_PER_IP", 20)
LOGIN_ATTEMPT_WINDOW_SECONDS = env_int("LOGIN_ATTEMPT_WINDOW_SECONDS", 300)
# How long Redis keeps an account's session check for the queue's endpoints
# (join, me, done), so they read no MySQL. A save or delete of the account
# replaces it at once; this bounds how long a change could go unseen if Redis
# failed at that moment. About 250 bytes per cached account; 0 turns it off.
USERMGMT_ACCOUNT_CACHE_SECONDS = env_int("USERMGMT_ACCOUNT_CACHE_SECONDS", 1800)

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 12)),
    "TOKEN_LIMIT_PER_USER": env_int("API_TOKEN_LIMIT_PER_USER", 20),
    "AUTO_REFRESH": False,
}

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: a browser cannot send it cross-site without a CORS preflight,
    # and every other content type is a clear 415.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "onsale.platform.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "onsale API",
    "DESCRIPTION": "Virtual waiting room and ticketing platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "onsale.events.models.Event.Status",
        "EventCreateStatusEnum": [("draft", "Draft"), ("published", "Published")],
    },
}

# Requests whose declared body is larger than this are refused with 413
# before anything reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1_048_576)
MAX_REQUEST_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
# The organizer's seat-map upload (full JSON or CSV) may be larger: a map of
# SEATMAP_MAX_SEATS seats written out seat by seat is several megabytes. Only
# organizers get past authentication there, before the body is read.
SEATMAP_MAX_BODY_BYTES = env_int("SEATMAP_MAX_BODY_BYTES", 16_777_216)

# --- Static files and storage -----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
# Deployment (Dockerfile, cloudformation/cdn.yaml): content-hashed,
# pre-compressed static file names (WhiteNoise's manifest storage), so
# WhiteNoise, nginx and CloudFront may cache them for a year. The image and
# `bin/run` switch this on and collect first; tests leave it off and WhiteNoise
# serves the apps' static folders as they are (no collectstatic).
ONSALE_STATIC_MANIFEST = env_bool("ONSALE_STATIC_MANIFEST", False)
WHITENOISE_USE_FINDERS = not ONSALE_STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG and not ONSALE_STATIC_MANIFEST
if not ONSALE_STATIC_MANIFEST:
    # Nothing is collected then, so STATIC_ROOT may well not exist: that is
    # expected, and the warning would break the one-JSON-object-per-line logs.
    warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
# The public host CloudFront serves /static/ and /media/ on, from the bucket's
# static/ and media/ folders (django-storages reads this name); empty: the
# bucket's own address.
AWS_S3_CUSTOM_DOMAIN = env_str("AWS_S3_CUSTOM_DOMAIN", "") or None
if AWS_STORAGE_BUCKET_NAME:
    STORAGES = {
        "default": {"BACKEND": "onsale.platform.storage.S3MediaStorage"},
        "staticfiles": {"BACKEND": "onsale.platform.storage.S3StaticStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": (
                "whitenoise.storage.CompressedManifestStaticFilesStorage"
                if ONSALE_STATIC_MANIFEST
                else "django.contrib.staticfiles.storage.StaticFilesStorage"
            )
        },
    }

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may stay silent before the send fails (and the
# task retries); without it a hung mail server holds a worker for good.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "onsale <tickets@onsale.invalid>")

# --- Internationalisation ---------------------------------------------------
# Fan-facing pages speak English and German. The language is the fan's choice
# from the page footer (Django's set_language view; a cookie remembers it),
# else the browser's Accept-Language, else English. Each app keeps its own
# catalog in <app>/locale/, found through INSTALLED_APPS, so an app's strings
# and their translations move with the app and are installed with the package
# (the image installs `onsale` into its virtualenv; a top-level locale/ would
# be left behind). The compiled .mo files are committed beside the .po files,
# so a fresh clone and the image need no gettext tools (`bin/messages`
# refreshes and compiles them). Where Django's own apps, listed first,
# translate the same text ("Email", "Home"), their translation is shown.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS: list[Path] = []
USE_I18N = True
LANGUAGE_COOKIE_NAME = "onsale_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Dates and numbers follow the active language (Django always localizes);
# the project's own formats per language (event times, money) are in
# onsale/platform/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["onsale.platform.formats"]
TIME_ZONE = "UTC"
USE_TZ = True

# --- Security ---------------------------------------------------------------
# Behind the ALB/nginx, TLS ends before Django; trust the proxy's header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# The probes and Prometheus reach pods over plain HTTP inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# How many proxies (ALB, nginx) stand in front of Django: the client address is
# taken that many hops from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Content Security Policy: every page loads only our own scripts, styles and
# images. Inline <style> blocks are still allowed (a few templates use them);
# inline scripts are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging ----------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "onsale.platform.observability.logging.ContextFilter"}
    },
    "formatters": {
        "json": {"()": "onsale.platform.observability.logging.JsonFormatter"}
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # The request log line comes from our middleware; Django's own
        # per-request warnings would duplicate it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- New Relic --------------------------------------------------------------
# The agent is switched on by NEW_RELIC_LICENSE_KEY or NEW_RELIC_CONFIG_FILE
# (see onsale/platform/observability/newrelic.py); nothing else changes without them.
NEW_RELIC_LICENSE_KEY = env_str("NEW_RELIC_LICENSE_KEY", "")
NEW_RELIC_CONFIG_FILE = env_str("NEW_RELIC_CONFIG_FILE", "")

# --- Seat selection ---------------------------------------------------------
# How long a hold keeps its seats; never longer than the fan's admitted session.
SEAT_HOLD_SECONDS = env_int("SEAT_HOLD_SECONDS", 600)
# Seats (or general-admission places) one hold request may ask for.
SEAT_HOLD_MAX_SEATS_PER_REQUEST = env_int("SEAT_HOLD_MAX_SEATS_PER_REQUEST", 20)
# The largest seat map an organizer may load (seats plus generated seats).
SEATMAP_MAX_SEATS = env_int("SEATMAP_MAX_SEATS", 100_000)
# Browser/CDN lifetime of the seat map document (it carries an ETag too).
SEATMAP_CACHE_SECONDS = env_int("SEATMAP_CACHE_SECONDS", 300)
# A live seat stream ends after this long (the browser reconnects on its own),
# so a stream never pins a web worker for good; heartbeats keep proxies from
# closing an idle stream.
SEAT_STREAM_MAX_SECONDS = env_int("SEAT_STREAM_MAX_SECONDS", 300)
SEAT_STREAM_HEARTBEAT_SECONDS = env_int("SEAT_STREAM_HEARTBEAT_SECONDS", 15)
# Streams one WSGI process serves at once from its own threads (`./bin/run`
# and `runserver`, where no ASGI stream service sits in front): half its
# threads, so open seat pages never take every thread and the site stays up.
# A seat page refused a stream polls the snapshot and asks again later.
SEAT_STREAM_WSGI_MAX_PER_PROCESS = env_int(
    "SEAT_STREAM_WSGI_MAX_PER_PROCESS", max(1, env_int("WEB_THREADS", 4) // 2)
)

# --- Checkout and orders ----------------------------------------------------
# (PAYMENT_GATEWAY is read above, next to INSTALLED_APPS.)
if PAYMENT_GATEWAY == "fake" or DEBUG:
    # The fake provider's webhook secret protects nothing real.
    PAYMENT_WEBHOOK_SECRET = env_str(
        "PAYMENT_WEBHOOK_SECRET", "whsec_fake_provider_not_a_secret"
    )
elif ONSALE_SERVES:
    PAYMENT_WEBHOOK_SECRET = env_required("PAYMENT_WEBHOOK_SECRET")
else:
    # A command that serves nothing checks no webhook; a gateway that is
    # built from an empty secret must refuse it (none but the fake exists).
    PAYMENT_WEBHOOK_SECRET = env_str("PAYMENT_WEBHOOK_SECRET", "")
# Webhooks signed longer ago than this are refused (replay window).
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = env_int("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)
FAKE_PAYMENTS_LATENCY_MS = env_int("FAKE_PAYMENTS_LATENCY_MS", 0)
# How long the fake provider's timeout card hangs before failing.
FAKE_PAYMENTS_TIMEOUT_LATENCY_MS = env_int("FAKE_PAYMENTS_TIMEOUT_LATENCY_MS", 3000)
# Drills only: the share of fake charges that time out (half after charging).
FAKE_PAYMENTS_FAULT_RATE = env_float("FAKE_PAYMENTS_FAULT_RATE", 0.0)
# How long POST /checkout waits for the charge before answering 202 (pending).
CHECKOUT_CHARGE_WAIT_SECONDS = env_float("CHECKOUT_CHARGE_WAIT_SECONDS", 5.0)
# Retries of a charge whose outcome is unknown before the saga compensates.
CHECKOUT_CHARGE_MAX_RETRIES = env_int("CHECKOUT_CHARGE_MAX_RETRIES", 5)
# A pending (unpaid) order older than this expires and frees its seats.
CHECKOUT_PENDING_TIMEOUT_SECONDS = env_int("CHECKOUT_PENDING_TIMEOUT_SECONDS", 900)
CHECKOUT_IDEMPOTENCY_TTL_HOURS = env_int("CHECKOUT_IDEMPOTENCY_TTL_HOURS", 24)
# A second request with a key still in progress waits this long for the first.
CHECKOUT_IDEMPOTENCY_WAIT_SECONDS = env_float("CHECKOUT_IDEMPOTENCY_WAIT_SECONDS", 2.0)
# Default refund policy of events without their own: fans may cancel until
# this many hours before the event starts.
ORDERS_REFUND_CUTOFF_HOURS = env_int("ORDERS_REFUND_CUTOFF_HOURS", 48)

# --- Observability: metrics, ops status, New Relic gauges -------------------
# `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; empty keeps
# it closed (403) for everyone.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Celery queues whose depth `/metrics` reports; empty: the default queue and
# every queue named in the Celery routes.
METRICS_CELERY_QUEUES = env_list("METRICS_CELERY_QUEUES", [])
# The image tag or commit this process runs (ops status, onsale_build_info).
ONSALE_RELEASE = env_str("ONSALE_RELEASE", "")
# How often beat sends the queue and business gauges to New Relic (the task
# does nothing where the agent is off).
TELEMETRY_GAUGES_INTERVAL_SECONDS = env_int("TELEMETRY_GAUGES_INTERVAL_SECONDS", 30)

# --- Waiting room (onsale/waitingroom) ----------------------------------------
# Access tokens (onsale/waitingroom/signing.py): the current signing key as a
# PEM file or inline PEM (Ed25519 or RSA >= 2048 bits). Outside debug mode one
# is required: every serving process (ONSALE_SERVES) stops at start with a
# clear message without it; other commands only when they sign or verify.
WAITINGROOM_JWT_PRIVATE_KEY_FILE = env_str("WAITINGROOM_JWT_PRIVATE_KEY_FILE", "")
WAITINGROOM_JWT_PRIVATE_KEY = env_str("WAITINGROOM_JWT_PRIVATE_KEY", "")
# Default: the key's RFC 7638 thumbprint.
WAITINGROOM_JWT_KID = env_str("WAITINGROOM_JWT_KID", "")
# Keys rotated out: "path.pem@retired_at" (epoch seconds or ISO 8601), still
# accepted for WAITINGROOM_JWT_ROTATION_GRACE_SECONDS after retired_at.
WAITINGROOM_JWT_PREVIOUS_KEYS = env_list("WAITINGROOM_JWT_PREVIOUS_KEYS", [])
WAITINGROOM_JWT_ROTATION_GRACE_SECONDS = env_int(
    "WAITINGROOM_JWT_ROTATION_GRACE_SECONDS", 3600
)
WAITINGROOM_JWT_LEEWAY_SECONDS = env_int("WAITINGROOM_JWT_LEEWAY_SECONDS", 30)
WAITINGROOM_JWT_ISSUER = env_str("WAITINGROOM_JWT_ISSUER", "onsale")
# Without a configured key, derive one from SECRET_KEY: debug mode only (test
# settings switch it on). Deliberately not read from the environment.
WAITINGROOM_JWT_DEV_KEY = DEBUG
# Tests may pin the clock the queue scripts use; never on outside tests, and
# deliberately not read from the environment.
WAITINGROOM_CLOCK_INJECTION = False
# Joins allowed per client address per window (429 + Retry-After beyond).
WAITINGROOM_JOIN_LIMIT_PER_IP = env_int("WAITINGROOM_JOIN_LIMIT_PER_IP", 120)
WAITINGROOM_JOIN_LIMIT_WINDOW_SECONDS = env_int(
    "WAITINGROOM_JOIN_LIMIT_WINDOW_SECONDS", 60
)
# Each process answers status polls from a memo this young at most (0: off);
# the document is public and cacheable for a second anyway.
WAITINGROOM_STATUS_MEMO_MS = env_int("WAITINGROOM_STATUS_MEMO_MS", 500)
# How often Celery beat evaluates every room (so an idle room still admits).
WAITINGROOM_TICK_SECONDS = env_float("WAITINGROOM_TICK_SECONDS", 1.0)
# Defaults of a new event's waiting room (organizers change them live).
WAITINGROOM_DEFAULT_PREQUEUE_MINUTES = env_int(
    "WAITINGROOM_DEFAULT_PREQUEUE_MINUTES", 60
)
WAITINGROOM_DEFAULT_RATE_PER_MINUTE = env_int(
    "WAITINGROOM_DEFAULT_RATE_PER_MINUTE", 600
)
WAITINGROOM_DEFAULT_BURST = env_int("WAITINGROOM_DEFAULT_BURST", 50)
WAITINGROOM_DEFAULT_MAX_ACTIVE = env_int("WAITINGROOM_DEFAULT_MAX_ACTIVE", 500)
WAITINGROOM_DEFAULT_SESSION_SECONDS = env_int(
    "WAITINGROOM_DEFAULT_SESSION_SECONDS", 600
)
# How long an admitted fan's turn is kept for them to start (Ticketmaster keeps a
# turn 10 minutes): a locked phone or a background tab does not lose it at once.
WAITINGROOM_DEFAULT_CLAIM_SECONDS = env_int("WAITINGROOM_DEFAULT_CLAIM_SECONDS", 600)
# After the claim window, how long a lapsed turn can still be taken back (same
# number, if the room still admits and seats are left); 0: never. Past it the fan
# can only rejoin at the back of the line.
WAITINGROOM_GRACE_SECONDS = env_int("WAITINGROOM_GRACE_SECONDS", 600)
WAITINGROOM_DEFAULT_MAX_SEATS_PER_FAN = env_int(
    "WAITINGROOM_DEFAULT_MAX_SEATS_PER_FAN", 6
)
# Mounts /bench/empty (an empty view, the baseline of the benchmarks in bench/). Never in
# production.
ONSALE_BENCH_VIEWS = env_bool("ONSALE_BENCH_VIEWS", False)

# Attach the ticket PDF to the confirmation email (rendered by the worker);
# false: the email links to the order page and the PDF is rendered on its
# first download, which keeps PDF work off the hot path of a big on-sale.
ORDERS_EMAIL_ATTACH_PDF = env_bool("ORDERS_EMAIL_ATTACH_PDF", True)
# How long a worker owns an order's email while sending it. A worker killed
# mid-send leaves the claim to run out; then the fulfilment sweep sends the
# email again. Longer than EMAIL_TIMEOUT, so a slow send is never doubled.
ORDERS_EMAIL_CLAIM_SECONDS = env_int("ORDERS_EMAIL_CLAIM_SECONDS", 300)
