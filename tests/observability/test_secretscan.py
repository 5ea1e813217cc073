"""The suite-wide secret scan (tests/observability/secretscan.py) itself: what
it recognises, and that a leak really fails a pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.observability.secretscan import SecretScanner

ROOT = Path(__file__).resolve().parents[2]


def test_scanner_recognises_known_secrets_and_token_shapes() -> None:
    scanner = SecretScanner()
    scanner.add("correct-horse-battery-staple", "the password fixture")
    scanner.add("short", "too short to matter")  # ignored: would match everywhere

    assert scanner.kinds_in('{"message": "pw correct-horse-battery-staple"}') == (
        "the password fixture",
    )
    assert scanner.kinds_in("eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl") == (
        "a JWT-shaped string",
    )
    assert scanner.kinds_in("token " + "ab" * 32) == ("a 64-hex token-shaped string",)
    assert scanner.kinds_in("a short story, [REDACTED:jwt]") == ()
    scanner.scan("nothing here", logger="x")
    scanner.scan("pw correct-horse-battery-staple", logger="y")
    assert scanner.lines_scanned == 2
    assert [(f.logger, f.kinds) for f in scanner.findings] == [
        ("y", ("the password fixture",))
    ]


def test_this_session_is_being_scanned(request, password) -> None:
    # The plugin is registered and has picked up this suite's secrets.
    from tests.observability import secretscan

    scanner = request.config.stash[secretscan._scanner_key]
    assert scanner.secrets[password] == "the value of the `password` fixture"
    from django.conf import settings

    assert scanner.secrets[settings.SECRET_KEY] == "DJANGO_SECRET_KEY"


@pytest.mark.django_db
def test_issued_api_tokens_are_recorded(request, fan) -> None:
    from onsale.usermgmt import services
    from tests.observability import secretscan

    token, _ = services.api_token_create(user=fan)
    scanner = request.config.stash[secretscan._scanner_key]
    assert scanner.secrets[token] == "an API bearer token issued in the tests"


def _run_pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(textwrap.dedent(body))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "onsale.config.settings_test",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.observability.secretscan",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            "-q",
            str(test_file),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_leaked_secret_fails_the_whole_run(tmp_path) -> None:
    # Given a suite whose only test passes but logs a secret fixture's value
    result = _run_pytest(
        tmp_path,
        """
        import logging
        import pytest

        @pytest.fixture
        def api_secret():
            return "leaky-value-0123456789"

        def test_leaks(api_secret):
            logging.getLogger("leaky").warning("the value is %s", api_secret)
        """,
    )
    # Then the run fails, naming the test, the logger and the kind of secret,
    # but not the secret
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "secrets found in log output" in result.stdout
    assert (
        "test_inner.py::test_leaks: logger 'leaky' wrote the value of the "
        "`api_secret` fixture" in result.stdout
    )
    assert "leaky-value-0123456789" not in result.stdout


def test_a_clean_run_passes(tmp_path) -> None:
    result = _run_pytest(
        tmp_path,
        """
        import logging

        def test_clean():
            logging.getLogger("clean").warning("nothing to see")
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secrets found" not in result.stdout
