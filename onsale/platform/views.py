"""Pages that belong to no single service."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.seatselection.selectors import event_list_published


def home(request: HttpRequest) -> HttpResponse:
    """The front page: the events on sale or coming up, each with its
    waiting room."""
    events = list(event_list_published(limit=20))
    return render(request, "home.html", {"events": events})


class BenchEmptyApi(APIView):
    """The baseline of loadtests/: the cheapest DRF request this stack can
    serve (no authentication, no database, no Redis). Mounted at /bench/empty
    only when ONSALE_BENCH_VIEWS is on; never in production."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get(self, request: Request) -> Response:
        return Response({})

    def post(self, request: Request) -> Response:
        return Response({})
