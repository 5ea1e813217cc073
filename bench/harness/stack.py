"""The local stack a benchmark or load test runs against, and its clean-up.

`Stack` creates a MySQL database of its own (MariaDB at 127.0.0.1:3306,
`onsale_bench_<pid>`) and a Redis key prefix of its own (`onsale-bench-<pid>:`,
Celery's broker keys included), migrates, and starts on 127.0.0.1:

- gunicorn with the project's gunicorn.conf.py (the worker class, worker and
  thread counts can be overridden, and the server restarted with others);
- nginx in front of it with the repository's configuration (nginx/render.sh);
- a Celery worker that fulfils paid orders.

`close()` stops them (process groups: SIGTERM, then SIGKILL), drops the
database, deletes every key under the prefix and removes the scratch
directory. It runs from `with Stack(...)`, so it runs on an exception and on
Ctrl-C; `exit_on_sigterm()` turns SIGTERM into the same path.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlparse

from onsale.testutils.worker_command import worker_command

ROOT = Path(__file__).resolve().parents[2]

# Worker classes compared by the runner; the WSGI/ASGI entry point each needs.
WORKER_CLASSES = {
    "sync": ("sync", "onsale.config.wsgi:application"),
    "gthread": ("gthread", "onsale.config.wsgi:application"),
    # uvicorn's gunicorn worker as the project runs it (the seat stream's).
    "uvicorn": (
        "onsale.config.asgi_worker.StreamWorker",
        "onsale.config.asgi:application",
    ),
}
# Environment each worker class needs on top of the stack's. Under ASGI,
# Django runs sync code in executor threads that are not reused per request,
# so persistent database connections pile up until MySQL refuses more ("Too
# many connections"); Django's documentation says to turn them off there.
WORKER_ENV = {"uvicorn": {"DB_CONN_MAX_AGE": "0"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def exit_on_sigterm() -> None:
    """SIGTERM ends the process through SystemExit, so `finally` blocks (and
    the stack's clean-up) run as they do on Ctrl-C."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def process_tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, parent in parents.items() if parent == current]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_http(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url}: exited early; {log}:\n{log.read_text()[-3000:]}"
            )
        try:
            # Only http://127.0.0.1 URLs this module builds.
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {seconds:.0f} s; see {log}")


class Stack:
    """gunicorn + nginx + Celery worker on a database and Redis prefix of
    their own. Use as a context manager; `env` is the environment every
    process of the stack (and a Django set up in the caller) shares."""

    def __init__(
        self,
        *,
        workers: int = 2,
        threads: int = 8,
        worker_class: str = "gthread",
        nginx: bool = True,
        celery_worker: bool = True,
        mysql_url: str = "mysql://root@127.0.0.1:3306",
        redis_url: str = "redis://127.0.0.1:6379/0",
        extra_env: dict[str, str] | None = None,
        keep_logs: bool = False,
    ) -> None:
        self.workers, self.threads, self.worker_class = workers, threads, worker_class
        self.with_nginx, self.with_celery = nginx, celery_worker
        self.mysql_url, self.redis_url = mysql_url.rstrip("/"), redis_url
        self.keep_logs = keep_logs
        pid = os.getpid()
        self.database = f"onsale_bench_{pid}"
        self.prefix = f"onsale-bench-{pid}:"
        self.work = Path(tempfile.mkdtemp(prefix="onsale-benchstack-"))
        # nginx's workers (an unprivileged user when started as root) read
        # the static files and write the micro-cache under here.
        self.work.chmod(0o755)
        self.web_port, self.proxy_port = free_port(), free_port()
        self.web: subprocess.Popen[bytes] | None = None
        self.proxy: subprocess.Popen[bytes] | None = None
        self.celery: subprocess.Popen[bytes] | None = None
        self._database_created = False
        self._closed = False
        self.env = self._environment(extra_env or {})

    # --- addresses ------------------------------------------------------------

    @property
    def origin(self) -> str:
        """gunicorn itself."""
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def proxy_url(self) -> str:
        """nginx in front of gunicorn."""
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def database_url(self) -> str:
        return f"{self.mysql_url}/{self.database}"

    # --- life cycle -----------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        pem = self.work / "jwt.pem"
        pem.write_bytes(
            ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("NEW_RELIC_", "DJANGO_", "WAITINGROOM_", "ONSALE_", "GUNICORN_")
            )
            and key not in {"DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX"}
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "onsale.config.settings",
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "ONSALE_PUBLIC_URL": "http://127.0.0.1",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_SECURE_COOKIES": "false",
                "DATABASE_URL": self.database_url,
                "DB_CONN_MAX_AGE": "60",
                "REDIS_URL": self.redis_url,
                "REDIS_KEY_PREFIX": self.prefix,
                "ONSALE_BROKER_KEY_PREFIX": self.prefix + "broker:",
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "WAITINGROOM_JWT_PRIVATE_KEY_FILE": str(pem),
                "WAITINGROOM_JOIN_LIMIT_PER_IP": "1000000000",
                "ONSALE_BENCH_VIEWS": "true",
                "LOG_LEVEL": "WARNING",
                "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
                "FAKE_PAYMENTS_LATENCY_MS": "0",
                # Rooms the benchmarks open by hand (no organizer set-up).
                "WAITINGROOM_DEFAULT_MAX_ACTIVE": "1000000",
                "WAITINGROOM_DEFAULT_SESSION_SECONDS": "3600",
                "SEAT_HOLD_SECONDS": "600",
                "ONSALE_VAR_DIR": str(self.work / "var"),
                "STATIC_ROOT": str(self.work / "static"),
                "MEDIA_ROOT": str(self.work / "media"),
                # nginx is the one proxy in front.
                "TRUSTED_PROXY_COUNT": "1",
                "GUNICORN_MAX_REQUESTS": "0",
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(extra)
        return env

    def _mysql(self, statement: str) -> None:
        mysql_execute(self.mysql_url, statement)

    def manage(self, *command: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *command],
            env=self.env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self._mysql(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")
        self._database_created = True
        self.manage("migrate", "--noinput", "-v", "0")
        if self.with_nginx:
            self.manage("collectstatic", "--noinput", "-v", "0")
        self.start_web()
        if self.with_nginx:
            self._start_nginx()
        if self.with_celery:
            self._start_celery()

    def start_web(
        self,
        worker_class: str | None = None,
        workers: int | None = None,
        threads: int | None = None,
    ) -> None:
        """(Re)start gunicorn: the project's gunicorn.conf.py, with the worker
        class and counts given (or the stack's) and the broker prefix set."""
        _stop(self.web)
        self.worker_class = worker_class or self.worker_class
        self.workers = workers or self.workers
        self.threads = threads or self.threads
        gunicorn_class, app = WORKER_CLASSES[self.worker_class]
        config = self.work / "gunicorn_stack.py"
        config.write_text(
            "import runpy\n"
            f"_base = runpy.run_path({str(ROOT / 'gunicorn.conf.py')!r})\n"
            "globals().update(\n"
            "    {k: v for k, v in _base.items() if not k.startswith('__')}\n"
            ")\n"
            f"worker_class = {gunicorn_class!r}\n"
            f"wsgi_app = {app!r}\n"
            f"bind = '127.0.0.1:{self.web_port}'\n"
            f"workers = {self.workers}\n"
            f"threads = {self.threads}\n"
            "\n"
            "def post_worker_init(worker):\n"
            "    # Celery's broker keys under this stack's prefix, as the worker's.\n"
            "    from onsale.config.celery import app\n"
            "    app.conf.broker_transport_options = {\n"
            "        **app.conf.broker_transport_options,\n"
            f"        'global_keyprefix': {self.env['ONSALE_BROKER_KEY_PREFIX']!r},\n"
            "    }\n"
        )
        log = self.work / f"gunicorn-{self.worker_class}.log"
        with log.open("ab") as out:
            self.web = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(config)],
                env={**self.env, **WORKER_ENV.get(self.worker_class, {})},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_http(f"{self.origin}/bench/empty", self.web, log)

    def _start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        prefix = self.work / "nginx"
        subprocess.run(
            ["sh", str(ROOT / "nginx" / "render.sh"), str(prefix)],
            env={
                "PATH": os.environ["PATH"],
                "ONSALE_UPSTREAM": f"127.0.0.1:{self.web_port}",
                # The seat stream's own server is not part of these runs.
                "ONSALE_STREAM_UPSTREAM": f"127.0.0.1:{self.web_port}",
                "NGINX_LISTEN": f"127.0.0.1:{self.proxy_port}",
                # The load generators play the load balancer: X-Forwarded-For
                # names the (simulated) client.
                "NGINX_REAL_IP_FROM": "127.0.0.1/32",
                "ONSALE_STATIC_ROOT": self.env["STATIC_ROOT"],
                "ONSALE_MEDIA_ROOT": self.env["MEDIA_ROOT"],
            },
            check=True,
            capture_output=True,
        )
        log = self.work / "nginx.log"
        with log.open("wb") as out:
            self.proxy = subprocess.Popen(
                [
                    nginx,
                    "-p",
                    f"{prefix}/",
                    "-c",
                    "nginx.conf",
                    "-e",
                    "stderr",
                    "-g",
                    "daemon off;",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_http(f"{self.proxy_url}/healthz", self.proxy, log)

    def _start_celery(self) -> None:
        log = self.work / "celery.log"
        with log.open("wb") as out:
            self.celery = subprocess.Popen(
                # The project's app with the broker keys under our prefix.
                worker_command(),
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Ctrl-C again while cleaning up must not leave things half done.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for process in (self.celery, self.proxy, self.web):
                started = time.monotonic()
                try:
                    _stop(process)
                except Exception as exc:  # keep cleaning up
                    print(f"stack: stopping {process}: {exc!r}", file=sys.stderr)
                took = time.monotonic() - started
                if took > 5 and process is not None:
                    # A slow stop is worth knowing about (a test waits for it).
                    print(
                        f"stack: stopping {process.args!r} took {took:.1f} s",
                        file=sys.stderr,
                    )
            try:
                redis_keys_delete(self.redis_url, self.prefix)
            except Exception as exc:
                print(f"stack: Redis clean-up: {exc!r}", file=sys.stderr)
            if self._database_created:
                try:
                    self._mysql(f"DROP DATABASE IF EXISTS `{self.database}`")
                except Exception as exc:
                    print(f"stack: dropping {self.database}: {exc!r}", file=sys.stderr)
            if self.keep_logs:
                print(f"stack: logs kept in {self.work}", file=sys.stderr)
            else:
                shutil.rmtree(self.work, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous)

    def log_tail(self, name: str, characters: int = 3000) -> str:
        path = self.work / name
        return path.read_text(errors="replace")[-characters:] if path.exists() else ""


def mysql_execute(mysql_url: str, statement: str) -> None:
    """Run one statement as the server's user of `mysql_url` (no database)."""
    import MySQLdb

    url = urlparse(mysql_url)
    connection = MySQLdb.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        passwd=url.password or "",
    )
    try:
        connection.cursor().execute(statement)
    finally:
        connection.close()


def redis_keys_delete(url: str, prefix: str) -> int:
    """Delete every key under `prefix`; returns how many."""
    import redis

    client: Any = redis.Redis.from_url(url)
    deleted, batch = 0, []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted
