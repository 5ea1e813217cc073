"""pytest plugin: the whole suite's log output must never hold a secret.

Registered from tests/plugin.py. For the whole session a handler on the root
logger formats every record exactly as production does (the JSON formatter,
which is where redaction happens) and scans the line for:

- every value of a fixture whose name says password, token or secret
  (the `password` fixture among them),
- every API bearer token (knox) and every JWT issued while the suite runs
  (recorded by wrapping `AuthToken.objects.create` and `jwt.encode`),
- the configured secrets: SECRET_KEY, METRICS_TOKEN, signing keys, ...,
- and anything shaped like a JWT or a 64-hex bearer token.

A hit fails the run (exit status 1) with a summary naming the test, the logger
and the kind of secret, never the secret itself. Scanning is a few substring
checks per record, so it costs the suite next to nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
HEX_TOKEN_PATTERN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_SECRET_FIXTURE = re.compile(r"password|token|secret", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8


@dataclass(frozen=True)
class Finding:
    test: str
    logger: str
    kinds: tuple[str, ...]


@dataclass
class SecretScanner:
    """Known secrets (value -> where it came from) and what was found."""

    secrets: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    current_test: str = "(outside a test)"
    lines_scanned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, value: Any, source: str) -> None:
        if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self.secrets.setdefault(value, source)

    def kinds_in(self, line: str) -> tuple[str, ...]:
        """What kinds of secret `line` holds (empty when clean)."""
        with self._lock:
            known = list(self.secrets.items())
        kinds = [source for value, source in known if value in line]
        if JWT_PATTERN.search(line):
            kinds.append("a JWT-shaped string")
        if HEX_TOKEN_PATTERN.search(line):
            kinds.append("a 64-hex token-shaped string")
        return tuple(dict.fromkeys(kinds))

    def scan(self, line: str, *, logger: str) -> None:
        self.lines_scanned += 1
        kinds = self.kinds_in(line)
        if kinds:
            with self._lock:
                self.findings.append(Finding(self.current_test, logger, kinds))


class ScanHandler(logging.Handler):
    """Formats like production and hands each line to the scanner."""

    def __init__(self, scanner: SecretScanner) -> None:
        from onsale.platform.observability.logging import ContextFilter, JsonFormatter

        super().__init__(level=logging.NOTSET)
        self.scanner = scanner
        self.setFormatter(JsonFormatter())
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            # A record the formatter cannot render is scanned raw: nothing
            # escapes the scan by breaking the formatter.
            line = f"{record.msg} {record.args} {record.__dict__}"
        self.scanner.scan(line, logger=record.name)


_scanner_key = pytest.StashKey[SecretScanner]()
_handler_key = pytest.StashKey[ScanHandler]()
_restore_key = pytest.StashKey[list[Callable[[], None]]]()


def _wrap_token_issuers(scanner: SecretScanner) -> list[Callable[[], None]]:
    """Record every bearer token and JWT handed out during the run."""
    restore: list[Callable[[], None]] = []
    import jwt
    from knox.models import AuthTokenManager

    original_create = AuthTokenManager.create

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        instance, token = original_create(self, *args, **kwargs)
        scanner.add(token, "an API bearer token issued in the tests")
        return instance, token

    AuthTokenManager.create = create  # type: ignore[method-assign]
    restore.append(lambda: setattr(AuthTokenManager, "create", original_create))

    original_encode = jwt.encode

    def encode(*args: Any, **kwargs: Any) -> str:
        token = original_encode(*args, **kwargs)
        scanner.add(token, "a JWT issued in the tests")
        return token

    jwt.encode = encode
    restore.append(lambda: setattr(jwt, "encode", original_encode))
    return restore


def _attach(config: pytest.Config) -> None:
    handler = config.stash.get(_handler_key, None)
    root = logging.getLogger()
    if handler is not None and handler not in root.handlers:
        root.addHandler(handler)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_scanner_key] = SecretScanner()


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    from onsale.platform.observability.redaction import configured_secrets

    scanner = session.config.stash[_scanner_key]
    scanner.add(settings.SECRET_KEY, "DJANGO_SECRET_KEY")
    for value in configured_secrets():
        scanner.add(value, "a configured secret setting")
    session.config.stash[_handler_key] = ScanHandler(scanner)
    session.config.stash[_restore_key] = _wrap_token_issuers(scanner)
    _attach(session.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    scanner = item.config.stash.get(_scanner_key, None)
    if scanner is not None:
        scanner.current_test = item.nodeid
    # A test that re-applies the logging configuration (dictConfig) drops
    # the root handlers; put the scanner back.
    _attach(item.config)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: Any, request: pytest.FixtureRequest
) -> Iterator[Any]:
    result = yield
    if _SECRET_FIXTURE.search(fixturedef.argname):
        scanner = request.config.stash.get(_scanner_key, None)
        if scanner is not None:
            scanner.add(result, f"the value of the `{fixturedef.argname}` fixture")
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    handler = config.stash.get(_handler_key, None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
    for restore in config.stash.get(_restore_key, []):
        restore()
    scanner = config.stash.get(_scanner_key, None)
    if scanner is not None and scanner.findings and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    scanner = config.stash.get(_scanner_key, None)
    if scanner is None or not scanner.findings:
        return
    terminalreporter.write_sep("=", "secrets found in log output", red=True, bold=True)
    for finding in scanner.findings[:50]:
        terminalreporter.write_line(
            f"{finding.test}: logger {finding.logger!r} wrote {', '.join(finding.kinds)}"
        )
    if len(scanner.findings) > 50:
        terminalreporter.write_line(f"... and {len(scanner.findings) - 50} more")
    terminalreporter.write_line(
        f"{len(scanner.findings)} log line(s) of {scanner.lines_scanned} held a secret: "
        "redact it at the source or teach onsale.platform.observability.redaction to mask it."
    )
