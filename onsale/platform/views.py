"""Views that belong to no single service."""

from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


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
