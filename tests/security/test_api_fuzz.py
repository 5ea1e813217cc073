"""Fuzz every operation of the API from its own OpenAPI schema (schemathesis).

Each operation gets a bounded number of generated requests, valid and invalid,
sent as a signed-in organizer (who may reach the most code). Whatever is sent:
no 5xx, documented responses match their schema, and every error is the one
JSON shape.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

MAX_EXAMPLES_PER_OPERATION = 25

schema = schemathesis.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def error_shape(response, case) -> None:
    """Every 4xx/5xx answer of the API is {"code", "message", "extra"}."""
    if response.status_code < 400:
        return
    body = response.json
    assert isinstance(body, dict), f"error body is not an object: {response.text[:200]}"
    assert set(body) == {"code", "message", "extra"}, body
    assert isinstance(body["code"], str) and body["code"]


@pytest.fixture
def keep_db_connection():
    """The raw WSGI app closes "old" database connections when a request
    finishes, which inside a test transaction breaks it. Django's test client
    disconnects these signals for the same reason; so do we."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def organizer_user(db, keep_db_connection):
    from onsale.testutils.factories import OrganizerFactory

    return OrganizerFactory()


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
def test_api_survives_generated_requests(case, organizer_user) -> None:
    # A fresh token per request: the fuzzer may well call logout.
    _, token = AuthToken.objects.create(user=organizer_user)
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    response = case.call_wsgi()
    case.validate_response(
        response,
        checks=(
            not_a_server_error,
            content_type_conformance,
            response_schema_conformance,
            error_shape,
        ),
    )
