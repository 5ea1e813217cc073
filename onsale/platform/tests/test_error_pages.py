"""The branded HTML error pages, and the JSON shape the API keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client, RequestFactory

from onsale.platform import exceptions
from onsale.platform.middleware import DependencyOutageMiddleware


def _page(response: Any) -> str:
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.django_db
def test_an_unknown_page_is_the_branded_404_and_the_api_keeps_json() -> None:
    page = Client().get("/no-such-page")
    assert page.status_code == 404
    text = _page(page)
    assert "Page not found" in text
    assert "onsale/site.css" in text
    assert 'href="/"' in text

    api = Client().get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json() == {"code": "not_found", "message": "Not found.", "extra": {}}


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (400, "This request could not be read"),
        (403, "You cannot open this page"),
        (500, "Something went wrong on our side"),
    ],
)
def test_each_error_page_says_what_happened_and_what_to_do(
    status: int, words: str
) -> None:
    # No database mark: the pages must render without one.
    request = RequestFactory().get("/events/7/seats")
    handler = getattr(exceptions, f"handler{status}")
    response = handler(request) if status == 500 else handler(request, Exception())
    assert response.status_code == status
    text = _page(response)
    assert words in text
    assert "Go to the home page" in text
    assert "Log in" not in text  # the user is never read
    assert "place in the queue" not in text


def test_the_500_page_of_the_waiting_room_says_the_place_is_kept() -> None:
    response = exceptions.handler500(RequestFactory().get("/events/7/queue"))
    assert response.status_code == 500
    text = _page(response)
    assert "Your place in the queue is kept" in text
    assert "Try again in a few seconds" in text


def test_the_api_keeps_the_json_error_shape() -> None:
    factory = RequestFactory()
    for status in (400, 403, 500):
        request = factory.get("/api/v1/events/7/queue")
        handler = getattr(exceptions, f"handler{status}")
        response = handler(request) if status == 500 else handler(request, Exception())
        assert response.status_code == status
        assert set(json.loads(response.content)) == {"code", "message", "extra"}


def test_the_503_page_has_retry_after_and_tries_again_by_itself() -> None:
    request = RequestFactory().get("/events/7/queue")
    response = exceptions.dependency_unavailable_page(request, "redis")
    assert response.status_code == 503
    assert response["Retry-After"] == str(exceptions.RETRY_AFTER_UNAVAILABLE)
    text = _page(response)
    assert "Your place in the queue is kept" in text
    assert "Try again in a few seconds" in text
    assert 'http-equiv="refresh"' in text

    posted = exceptions.dependency_unavailable_page(
        RequestFactory().post("/events/7/checkout"), "database"
    )
    assert posted.status_code == 503
    text = _page(posted)
    assert 'http-equiv="refresh"' not in text  # never resends a form
    assert "place in the queue" not in text


@pytest.mark.django_db
def test_an_expired_form_is_the_branded_403() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"email": "a@example.com", "password": "x"})
    assert response.status_code == 403
    text = _page(response)
    assert "reload the page and send the form again" in text.lower()


def _outage_middleware() -> DependencyOutageMiddleware:
    return DependencyOutageMiddleware(lambda request: HttpResponse())


def test_an_outage_in_a_page_is_the_503_page_and_a_bug_is_left_to_handler500() -> None:
    middleware = _outage_middleware()
    page = RequestFactory().get("/orders/")
    down = middleware.process_exception(page, redis.exceptions.ConnectionError())
    assert down is not None
    assert down.status_code == 503
    assert down["Retry-After"] == str(exceptions.RETRY_AFTER_UNAVAILABLE)
    assert "Try again in a few seconds" in _page(down)
    assert (
        middleware.process_exception(page, OperationalError(2003, "gone")) is not None
    )
    assert middleware.process_exception(page, ValueError("a bug")) is None
    # Contention, not an outage: not called a dependency failure.
    lock_wait = OperationalError(1205, "Lock wait timeout exceeded")
    assert middleware.process_exception(page, lock_wait) is None


def test_an_outage_in_a_plain_api_view_keeps_the_json_shape() -> None:
    request = RequestFactory().get("/api/v1/events/7/seats/stream")
    response = _outage_middleware().process_exception(
        request, redis.exceptions.TimeoutError()
    )
    assert response is not None
    assert response.status_code == 503
    assert json.loads(response.content)["extra"] == {"dependency": "redis"}
    assert response["Retry-After"] == str(exceptions.RETRY_AFTER_UNAVAILABLE)


def test_an_outage_outside_a_view_is_still_503_from_handler500() -> None:
    request = RequestFactory().get("/events/7/queue")
    try:
        raise redis.exceptions.ConnectionError("refused")
    except redis.exceptions.ConnectionError:
        response = exceptions.handler500(request)
    assert response.status_code == 503
    assert "Your place in the queue is kept" in _page(response)
    try:
        raise ValueError("a bug")
    except ValueError:
        assert exceptions.handler500(request).status_code == 500
