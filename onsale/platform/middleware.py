"""Request id, request log line and metrics, the early body-size check, the
fan's language for one request only, and the 503 of a page whose dependency
is down."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import Token
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.functional import SimpleLazyObject, empty

from onsale.platform.context import (
    as_int,
    event_id_var,
    request_id_var,
    route_var,
    user_id_var,
)
from onsale.platform.db import is_lock_wait_error
from onsale.platform.exceptions import (
    dependency_failure,
    dependency_unavailable_page,
    dependency_unavailable_response,
    error_body,
    wants_json,
)
from onsale.platform.observability import metrics
from onsale.platform.observability.logging import process_role_set
from onsale.platform.observability.newrelic import newrelic_transaction_name

logger = logging.getLogger("onsale.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# The route of a request that matched no URL: one label value, whatever the path.
UNMATCHED_ROUTE = "<unmatched>"


def _user_id(request: HttpRequest) -> int | None:
    """The authenticated user's id, without loading a session just to log it."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:  # type: ignore[attr-defined]
        return None
    if getattr(user, "is_authenticated", False):
        return int(user.pk)
    return None


def request_route(request: HttpRequest) -> str:
    """The URL pattern that served `request` ("/api/v1/events/<int:event_id>/queue"),
    never the raw path: it is a metric label and a transaction name, so its
    values must stay few."""
    match = request.resolver_match
    if match is None:
        return UNMATCHED_ROUTE
    return "/" + (match.route or "")


class RequestContextMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` when it is sane),
    echoes it on the response, and writes one log line per request.

    Once the URL is resolved it also tags the request with its route (and its
    `event_id` URL argument, so every line a view writes carries it), names the
    New Relic transaction after the route, and counts the request and its
    latency in the process's Prometheus metrics: in-process counters only, so
    the hot path makes no extra network round trip.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        process_role_set("web", override=False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens: tuple[Token[Any], ...] = (
            request_id_var.set(request_id),
            user_id_var.set(None),
            event_id_var.set(None),
            route_var.set(None),
        )
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user_id = _user_id(request)
            if user_id is not None:
                user_id_var.set(user_id)
            elapsed = time.perf_counter() - started
            route = request_route(request)
            status = response.status_code
            metrics.http_request_observe(
                method=request.method or "", route=route, status=status, seconds=elapsed
            )
            level = logging.ERROR if status >= 500 else logging.INFO
            logger.log(
                level,
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user_id": user_id,
                },
            )
            return response
        finally:
            for token in reversed(tokens):
                token.var.reset(token)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        route = request_route(request)
        route_var.set(route)
        newrelic_transaction_name(route)
        if "event_id" in view_kwargs:
            event_id_var.set(as_int(view_kwargs["event_id"]))


# Where a larger body is allowed: the organizer's seat-map upload.
_SEATMAP_UPLOAD = re.compile(r"^/api/v1/organizer/events/[0-9]+/seatmap(\.csv)?$")


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's: the language from the fan's cookie, else Accept-Language,
    else LANGUAGE_CODE; and then forgotten when the response is done.

    Django's leaves the language active on the thread. A worker thread that
    served a German fan would then render the next request's early 503 page
    (an outage found before this middleware runs) or anything else run
    outside a request in German.
    """

    def __call__(
        self, request: HttpRequest
    ) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        # Under ASGI (the seat stream) this returns a coroutine at once; the
        # language there lives in the request's own context, not the thread's.
        try:
            return super().__call__(request)
        finally:
            translation.deactivate()


class BodySizeLimitMiddleware:
    """Refuses a declared body above MAX_REQUEST_BODY_BYTES with 413, before any
    parser reads it (DRF's parsers read the stream and bypass Django's check).
    A seat-map upload may be up to SEATMAP_MAX_BODY_BYTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return JsonResponse(
                error_body("bad_request", "Content-Length is not a number."), status=400
            )
        limit = settings.MAX_REQUEST_BODY_BYTES
        if length > limit and _SEATMAP_UPLOAD.match(request.path_info):
            limit = settings.SEATMAP_MAX_BODY_BYTES
        if length > limit:
            return JsonResponse(
                error_body(
                    "request_too_large",
                    "The request body is too large.",
                    {"max_bytes": limit},
                ),
                status=413,
            )
        return self.get_response(request)


class DependencyOutageMiddleware:
    """A plain Django view (a fan's page: queue, seats, checkout, orders) that
    fails because MySQL or Redis is down answers 503 with Retry-After, as the
    API does through its exception handler, instead of a 500: the branded page
    for HTML, the one error shape under /api/. Bugs still reach handler500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        # A lock wait is contention, not an outage (the API calls it 409).
        if is_lock_wait_error(exception):
            return None
        dependency = dependency_failure(exception)
        if dependency is None:
            return None
        if wants_json(request):
            logger.warning("dependency unavailable: %s", dependency, exc_info=exception)
            return dependency_unavailable_response(dependency)
        return dependency_unavailable_page(request, dependency, exception)
