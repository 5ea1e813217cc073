"""Benchmark baselines, mounted only when ONSALE_BENCH_VIEWS is on; never in
production. They live here, in the project wiring, so no app carries a view
that exists only for the load tests."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.waitingroom.apis import QUEUE_AUTHENTICATION


class BenchEmptyApi(APIView):
    """The baseline of the benchmarks (bench/): the cheapest DRF request this stack can
    serve (no authentication, no database, no Redis). Mounted at /bench/empty
    only when ONSALE_BENCH_VIEWS is on; never in production."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get(self, request: Request) -> Response:
        return Response({})

    def post(self, request: Request) -> Response:
        return Response({})


class BenchAuthenticatedEmptyApi(APIView):
    """Benchmark baseline (mounted only with ONSALE_BENCH_VIEWS): nothing but
    the join's authentication and permission, so the benchmarks can tell the cost
    of signing a fan in from the cost of the queue itself."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        return Response({})
