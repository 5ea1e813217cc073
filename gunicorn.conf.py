"""gunicorn settings for every web service (the image's `web` command).

Read from the environment so one image serves every Deployment; the defaults
suit a pod with one CPU. `gunicorn -c gunicorn.conf.py` picks this file up.
"""

from __future__ import annotations

import os
from typing import Any


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


wsgi_app = "onsale.config.wsgi:application"
# All interfaces: inside a pod the only way in is the pod IP.
bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{_int('PORT', 8000)}")
# Threads, not more processes: requests mostly wait on Redis and MySQL, and a
# thread costs far less memory than a forked worker. (The SSE seat stream is
# not served here but by the ASGI worker, WEB_ASGI at the end of this file.)
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("WEB_THREADS", 8)
# A request that takes longer than this is killed and logged; nginx and the
# ALB time out at about the same point.
timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM from Kubernetes: finish in-flight requests within the pod's grace
# period (terminationGracePeriodSeconds is longer than this).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the ALB's idle timeout (60 s), so the load balancer closes idle
# connections first and never sends a request on a socket gunicorn just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then, staggered, so a slow leak never takes a pod down.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# The heartbeat files live in memory: the container's root file system is
# read-only and /tmp may be a slow disk. (/dev/shm is private to the container.)
_shm = "/dev/shm"  # noqa: S108
worker_tmp_dir = os.environ.get(
    "GUNICORN_WORKER_TMP_DIR", _shm if os.path.isdir(_shm) else None
)
# The proxy in front (ALB, nginx) sets X-Forwarded-*; Django decides what to
# trust from them (TRUSTED_PROXY_COUNT), so gunicorn passes them through.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# Django writes one JSON line per request (onsale.platform.middleware); a
# second, plain access log would only duplicate it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Load the app before forking: workers share its memory pages and a broken
# settings module fails the pod at start, not on the first request.
preload_app = True

# --- Observability -------------------------------------------------------------
# gunicorn's own error and access lines as JSON objects of the same shape as
# the application's (onsale.platform.observability.gunicorn.GunicornLogger). Access lines stay
# off unless GUNICORN_ACCESS_LOG is set (see above); set it to "-" for stdout.
logger_class = "onsale.platform.observability.gunicorn.GunicornLogger"


def _prometheus_directory() -> str:
    """Where every worker writes its Prometheus counters (multiprocess mode),
    so that `/metrics`, answered by any one worker, sums all of them.

    PROMETHEUS_MULTIPROC_DIR wins (a Kubernetes emptyDir, say); otherwise a
    directory in memory named after this master. Emptied once when the master
    starts, never on a reload: the running workers' files must survive a HUP.
    It is set here, before the app (and prometheus_client) is imported.
    """
    import tempfile
    from pathlib import Path

    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if configured and os.environ.get("ONSALE_PROMETHEUS_DIR_READY") == configured:
        return configured
    if not configured:
        # Memory, like the heartbeat files (the root file system is read-only).
        base = worker_tmp_dir or tempfile.gettempdir()
        configured = os.path.join(base, f"onsale-prometheus-{os.getpid()}")
        os.environ["ONSALE_PROMETHEUS_DIR_OWNED"] = configured
    directory = Path(configured)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = configured
    os.environ["ONSALE_PROMETHEUS_DIR_READY"] = configured
    return configured


prometheus_directory = _prometheus_directory()


def child_exit(server: Any, worker: Any) -> None:
    # A dead worker's live gauges must stop counting; its counters stay.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, prometheus_directory)


def on_exit(server: Any) -> None:
    import shutil

    if os.environ.get("ONSALE_PROMETHEUS_DIR_OWNED") == prometheus_directory:
        shutil.rmtree(prometheus_directory, ignore_errors=True)


# --- The ASGI seat stream --------------------------------------------------------
# WEB_ASGI=true (the seatstream service, the `stream` line of the Procfile):
# the ASGI application under uvicorn's worker, one event loop per worker, so an
# open server-sent event stream costs a coroutine, not a thread. `threads` does
# not apply, and `timeout` is the worker's heartbeat, not a limit per request.
# Recycling after N requests would cut every open stream of the worker at once,
# so it is off unless GUNICORN_MAX_REQUESTS asks for it.
if os.environ.get("WEB_ASGI", "").lower() in ("1", "true", "yes", "on"):
    wsgi_app = "onsale.config.asgi:application"
    worker_class = "onsale.config.asgi_worker.StreamWorker"
    max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
