"""Domain errors and the one exception handler that turns them into HTTP.

Apps raise subclasses of the domain categories below from their services (no
HTTP there). `exception_handler` is the only place that maps a category to a
status and renders the one error shape:

    {"code": "seat_unavailable", "message": "...", "extra": {...}}
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import redis
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from onsale.platform.db import is_lock_wait_error

logger = logging.getLogger(__name__)

RETRY_AFTER_UNAVAILABLE = 5


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    `code` is stable (clients branch on it); `message` is for people.
    """

    code = "error"
    message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.message
        self.extra = extra or {}
        self.retry_after = retry_after
        if code:
            self.code = code
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "invalid"
    message = "The request is not valid."


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    message = "Authentication is required."


class Forbidden(DomainError):
    code = "forbidden"
    message = "You may not do this."


class NotFound(DomainError):
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    message = "The request conflicts with the current state."


class LockTimeout(Conflict):
    """Another request holds the rows this one must lock (MySQL gave up
    waiting, see platform/db.py); retrying in a second usually succeeds."""

    code = "lock_timeout"
    message = "Someone else is changing this right now; try again in a moment."


# Seconds a client waits before retrying after a LockTimeout.
RETRY_AFTER_LOCK_TIMEOUT = 1


class RateLimited(DomainError):
    code = "rate_limited"
    message = "Too many requests; try again later."


class Unavailable(DomainError):
    code = "unavailable"
    message = "A service this request needs is unavailable; try again shortly."


_STATUS_BY_CATEGORY: list[tuple[type[DomainError], int]] = [
    (InvalidInput, 422),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (Unavailable, 503),
]

_DRF_CODES: dict[type[drf.APIException], str] = {
    drf.ParseError: "malformed_request",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.Throttled: "rate_limited",
    drf.ValidationError: "invalid",
}


def error_body(
    code: str, message: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"code": code, "message": message, "extra": extra or {}}


def _status_for(exc: DomainError) -> int:
    for category, status in _STATUS_BY_CATEGORY:
        if isinstance(exc, category):
            return status
    return 400


def _response(
    status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
    retry_after: int | None = None,
    auth_header: str | None = None,
) -> Response:
    response = Response(error_body(code, message, extra), status=status)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    return response


def _drf_response(exc: drf.APIException, context: dict[str, Any]) -> Response:
    code = next(
        (code for klass, code in _DRF_CODES.items() if isinstance(exc, klass)),
        str(exc.default_code),
    )
    extra: dict[str, Any] = {}
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail
        extra["fields"] = (
            detail if isinstance(detail, dict) else {"non_field_errors": detail}
        )
        message = "The request is not valid."
    else:
        message = str(exc.detail)
        if isinstance(exc, drf.PermissionDenied) and message.startswith("CSRF Failed"):
            code = "csrf_failed"
    retry_after = None
    wait = getattr(exc, "wait", None)
    if isinstance(exc, drf.Throttled) and wait is not None:
        retry_after = int(wait + 0.999)
    auth_header = None
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            auth_header = view.get_authenticate_header(request)
    status = exc.status_code
    return _response(status, code, message, extra, retry_after, auth_header)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every error leaves as the one JSON shape."""
    if is_lock_wait_error(exc):
        # Before the dependency check, which would call it an outage (503).
        exc = LockTimeout(retry_after=RETRY_AFTER_LOCK_TIMEOUT)
    if isinstance(exc, DomainError):
        return _response(
            _status_for(exc), exc.code, exc.message, exc.extra, exc.retry_after
        )
    if isinstance(exc, Http404):
        return _response(404, "not_found", "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return _response(403, "permission_denied", "You may not do this.")
    if isinstance(exc, RequestDataTooBig):
        return _response(413, "request_too_large", "The request body is too large.")
    if isinstance(exc, drf.APIException):
        return _drf_response(exc, context)
    dependency = dependency_failure(exc)
    if dependency:
        logger.warning("dependency unavailable: %s", dependency, exc_info=exc)
        return _response(
            503,
            DEPENDENCY_UNAVAILABLE,
            DEPENDENCY_UNAVAILABLE_MESSAGE,
            {"dependency": dependency},
            RETRY_AFTER_UNAVAILABLE,
        )
    logger.exception("unhandled error", exc_info=exc)
    return _response(500, "internal_error", "Something went wrong on our side.")


DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
DEPENDENCY_UNAVAILABLE_MESSAGE = (
    "A service this request needs is unavailable; try again shortly."
)


def dependency_unavailable_response(dependency: str) -> JsonResponse:
    """The 503 of a plain Django view (no DRF handler) whose `dependency` is
    down: the same body and Retry-After as the API's."""
    response = JsonResponse(
        error_body(
            DEPENDENCY_UNAVAILABLE,
            DEPENDENCY_UNAVAILABLE_MESSAGE,
            {"dependency": dependency},
        ),
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


def dependency_failure(exc: BaseException) -> str | None:
    """Name the backing service behind `exc` when it is an outage, not a bug."""
    if isinstance(
        exc,
        redis.exceptions.ConnectionError
        | redis.exceptions.TimeoutError
        # Redis Cluster: a shard without a primary (failover under way), the
        # cluster down, or no node answering while the slot map is learnt.
        | redis.exceptions.ClusterError
        | redis.exceptions.SlotNotCoveredError,
    ):
        return "redis"
    if isinstance(exc, redis.exceptions.RedisClusterException) and isinstance(
        exc.__cause__, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError
    ):
        return "redis"
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    if isinstance(exc, DatabaseError) and "timeout" in str(exc).lower():
        return "database"
    return None


def wants_json(request: HttpRequest) -> bool:
    """An API path: its errors are the JSON shape, never an HTML page."""
    return request.path.startswith("/api/") or request.path.startswith("/.well-known/")


# The fan's waiting-room page: its error pages tell the fan the place is kept
# (the place lives in the queue, not in the page).
_QUEUE_PAGE = re.compile(r"^/events/[0-9]+/queue/?$")


def error_page(
    request: HttpRequest,
    status: int,
    *,
    retry_after: int | None = None,
    **context: Any,
) -> HttpResponse:
    """The branded HTML page of an error `status` (errors/<status>.html).

    Rendered with no request, so no context processor runs: the page never
    reads the session or the user, and shows while MySQL or Redis is down.
    """
    from django.template import loader

    context.setdefault("status", status)
    context.setdefault("place_kept", bool(_QUEUE_PAGE.match(request.path)))
    html = loader.get_template(f"errors/{status}.html").render(context)
    response = HttpResponse(html, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    # An error page is about this moment: no cache may keep it.
    response["Cache-Control"] = "private, no-store"
    return response


def dependency_unavailable_page(
    request: HttpRequest, dependency: str, exc: BaseException | None = None
) -> HttpResponse:
    """The 503 of an HTML page whose `dependency` is down (`exc` the outage,
    for the log): the branded page with the API's Retry-After. A page only
    looked at (GET) reloads itself then, so a waiting fan keeps polling."""
    logger.warning("dependency unavailable: %s", dependency, exc_info=exc)
    refresh = RETRY_AFTER_UNAVAILABLE if request.method in ("GET", "HEAD") else None
    return error_page(
        request,
        503,
        retry_after=RETRY_AFTER_UNAVAILABLE,
        dependency=dependency,
        refresh_seconds=refresh,
    )


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page: JSON under /api/, the branded page elsewhere."""
    if wants_json(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return error_page(request, 404)


def handler500(request: HttpRequest) -> HttpResponse:
    """An error nothing else handled. An outage raised outside a view (in a
    middleware, say), which DependencyOutageMiddleware cannot see, is still a
    503, as the API answers it; the rest is 500."""
    exc = sys.exc_info()[1]
    dependency = (
        dependency_failure(exc)
        if exc is not None and not is_lock_wait_error(exc)
        else None
    )
    if wants_json(request):
        if dependency:
            return dependency_unavailable_response(dependency)
        return JsonResponse(
            error_body("internal_error", "Something went wrong on our side."),
            status=500,
        )
    if dependency:
        return dependency_unavailable_page(request, dependency, exc)
    return error_page(request, 500)


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            error_body("bad_request", "The request is not valid."), status=400
        )
    return error_page(request, 400)


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            error_body("permission_denied", "You may not do this."), status=403
        )
    return error_page(request, 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page form that expired (or came from elsewhere)
    gets the branded 403 that says to reload and resend; JSON paths keep
    Django's own answer, as before."""
    if wants_json(request):
        from django.views.csrf import csrf_failure as django_csrf_failure

        return django_csrf_failure(request, reason)
    return error_page(request, 403, csrf=True)
