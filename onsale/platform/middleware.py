"""Request id, request log line, and the early body-size check."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

from onsale.platform.context import event_id_var, request_id_var, user_id_var
from onsale.platform.exceptions import error_body

logger = logging.getLogger("onsale.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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


class RequestContextMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` when it is sane),
    echoes it on the response, and writes one log line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = (
            request_id_var.set(request_id),
            user_id_var.set(None),
            event_id_var.set(None),
        )
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user_id = _user_id(request)
            if user_id is not None:
                user_id_var.set(user_id)
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            level = logging.ERROR if response.status_code >= 500 else logging.INFO
            logger.log(
                level,
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user_id": user_id,
                },
            )
            return response
        finally:
            request_id_var.reset(tokens[0])
            user_id_var.reset(tokens[1])
            event_id_var.reset(tokens[2])


class BodySizeLimitMiddleware:
    """Refuses a declared body above MAX_REQUEST_BODY_BYTES with 413, before any
    parser reads it (DRF's parsers read the stream and bypass Django's check)."""

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
