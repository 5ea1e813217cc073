"""Redaction: no password, Authorization header, cookie, token or JWT is ever
written, whether passed as a field, nested, inside a message or a traceback."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.test import override_settings

from onsale.platform.observability import redaction
from onsale.platform.observability.redaction import REDACTED, redact_text, redact_value
from tests.observability.conftest import validate_line

logger = logging.getLogger("tests.observability.redaction")

JWT = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0."
    "eyJzdWIiOiI0MiIsImF1ZCI6ImV2ZW50OjcifQ."
    "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2Nzg5MA"
)
KNOX_TOKEN = "3f9c" * 16  # 64 hex characters, like a knox bearer token


def _only_line(log_lines: list[str], log_schema) -> dict:
    assert len(log_lines) == 1
    return validate_line(log_lines[0], log_schema)


def test_values_under_secret_keys_are_masked_at_any_depth(
    log_lines, log_schema
) -> None:
    logger.info(
        "signing in",
        extra={
            "password": "hunter2-hunter2",
            "headers": {
                "Authorization": "Bearer abc",
                "Cookie": "sessionid=xyz",
                "X-Request-ID": "r-1",
            },
            "forms": [{"new_password1": "pw-one-1234", "email": "fan@example.test"}],
            "refresh_token": "r-token-value",
            "tokens_per_minute": 600,  # a number under a "token" key is no secret
        },
    )
    record = _only_line(log_lines, log_schema)
    assert record["extra"] == {
        "password": REDACTED,
        "headers": {
            "Authorization": REDACTED,
            "Cookie": REDACTED,
            "X-Request-ID": "r-1",
        },
        "forms": [{"new_password1": REDACTED, "email": "fan@example.test"}],
        "refresh_token": REDACTED,
        "tokens_per_minute": 600,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"access token {JWT} refused", "access token [REDACTED:jwt] refused"),
        (
            f"Authorization: Bearer {KNOX_TOKEN}",
            f"Authorization: {REDACTED} {REDACTED}",
        ),
        (f"token {KNOX_TOKEN}", f"token {REDACTED}"),
        (f"sha {'a' * 63} short", f"sha {'a' * 63} short"),  # 63 hex: no token
        (f"digest={KNOX_TOKEN}", "digest=[REDACTED:hex]"),
        (f"key {KNOX_TOKEN} seen", "key [REDACTED:hex] seen"),
        (
            "login failed password=hunter2 for fan",
            f"login failed password={REDACTED} for fan",
        ),
        (
            "{'password': 'hunter2', 'email': 'a@b.c'}",
            f"{{'password': '{REDACTED}', 'email': 'a@b.c'}}",
        ),
        ('{"api_key": "k-123456"}', f'{{"api_key": "{REDACTED}"}}'),
        ("Cookie: sessionid=abc123def", f"Cookie: {REDACTED}"),
        ("redis://:s3cret-pass@cache:6379/0 down", "redis://:***@cache:6379/0 down"),
        ("mysql://onsale:pw@db:3306/onsale", "mysql://onsale:***@db:3306/onsale"),
        ("nothing to hide here", "nothing to hide here"),
        ("short", "short"),
    ],
)
def test_credentials_inside_text_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_the_message_and_its_arguments_are_redacted(log_lines, log_schema) -> None:
    logger.warning("rejected %s for user %s", f"Bearer {KNOX_TOKEN}", 7)
    record = _only_line(log_lines, log_schema)
    assert record["message"] == f"rejected Bearer {REDACTED} for user 7"


def test_tracebacks_are_redacted(log_lines, log_schema) -> None:
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        logger.exception("verification failed")
    record = _only_line(log_lines, log_schema)
    assert JWT not in log_lines[0]
    assert "bad token [REDACTED:jwt]" in record["exc_info"]
    assert record["error_type"] == "ValueError"


def test_configured_secrets_are_masked_wherever_they_appear(
    log_lines, log_schema
) -> None:
    # Given a secret setting (read once; forget the cache around the override)
    secret = "metrics-scrape-token-0123456789"
    redaction.redaction_reset()
    try:
        with override_settings(METRICS_TOKEN=secret):
            redaction.redaction_reset()
            logger.info("scraper sent %s", secret, extra={"note": f"x{secret}y"})
            logger.info("the key is %s", settings.SECRET_KEY)
    finally:
        redaction.redaction_reset()
    assert len(log_lines) == 2
    joined = "\n".join(log_lines)
    assert secret not in joined
    assert settings.SECRET_KEY not in joined
    first, second = (validate_line(line, log_schema) for line in log_lines)
    assert first["message"] == f"scraper sent {REDACTED}"
    assert first["extra"] == {"note": f"x{REDACTED}y"}
    assert second["message"] == f"the key is {REDACTED}"


def test_signing_keys_are_masked_line_by_line() -> None:
    pem = (
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh\n"
        "-----END PRIVATE KEY-----\n"
    )
    redaction.redaction_reset()
    try:
        with override_settings(TEST_SIGNING_KEYS={"k1": pem}):
            redaction.redaction_reset()
            masked = redact_text(f"loaded {pem}")
    finally:
        redaction.redaction_reset()
    assert "MC4CAQAwBQYDK2VwBCIEIAbCdEfGhIjKlMnOpQrStUvWxYz" not in masked
    assert "-----BEGIN PRIVATE KEY-----" in masked


def test_setting_names_that_only_mention_a_token_are_not_secrets() -> None:
    redaction.redaction_reset()
    try:
        with override_settings(
            WAITINGROOM_TOKEN_ISSUER_URL="https://tickets.example.test/issuer"
        ):
            redaction.redaction_reset()
            secrets = redaction.configured_secrets()
    finally:
        redaction.redaction_reset()
    assert "https://tickets.example.test/issuer" not in secrets
    assert settings.SECRET_KEY in secrets


def test_redact_value_leaves_numbers_and_structure_alone() -> None:
    value = {"count": 3, "ok": True, "nested": [{"token": 5}, None, 1.5]}
    assert redact_value(value) == value
    assert json.dumps(redact_value(value))
