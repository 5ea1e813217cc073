"""A URLconf for the observability tests: views that log inside a request,
fail with an unexpected error, and fail with a domain error."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.platform.exceptions import Conflict
from onsale.platform.observability import metrics, ops

logger = logging.getLogger("tests.observability.views")


def event_work(request: HttpRequest, event_id: int) -> JsonResponse:
    logger.info("working on the event", extra={"seats": 2})
    return JsonResponse({"event_id": event_id})


class BoomApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get(self, request: Request) -> Response:
        raise RuntimeError("the view broke")


class TakenApi(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get(self, request: Request, event_id: int) -> Response:
        raise Conflict("Seat taken.", code="seat_taken")


def plain_boom(request: HttpRequest) -> JsonResponse:
    raise ValueError("a plain view broke")


urlpatterns = [
    path("api/v1/events/<int:event_id>/work", event_work),
    path("api/v1/events/<int:event_id>/taken", TakenApi.as_view()),
    path("api/v1/boom", BoomApi.as_view()),
    path("plain-boom", plain_boom),
    path("metrics", metrics.metrics_view),
    path("api/v1/ops/status", ops.OpsStatusApi.as_view()),
]
