"""Seat map, availability and hold API."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
)
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.events import selectors as event_selectors
from onsale.seatselection import selectors, services
from onsale.seatselection.seatmaps.write import seatmap_replace, seats_block_set
from onsale.seatselection.selectors import Hold
from onsale.usermgmt.models import User
from onsale.usermgmt.permissions import IsOrganizer
from onsale.waitingroom.access import AccessTokenRequired

# --- Seat maps ------------------------------------------------------------------


def _accepts_gzip(request: HttpRequest) -> bool:
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, parameters = coding.strip().partition(";")
        if name.strip().lower() == "gzip":
            return parameters.replace(" ", "").lower() not in ("q=0", "q=0.0")
    return False


def _seatmap_response(
    request: HttpRequest, event_id: int, max_age: int
) -> HttpResponse:
    """The map document, gzip-compressed for a client that accepts it (the
    compressed copy is cached with the document; a proxy in front passes it
    on as it is). Each encoding has its own ETag, so a 304 never answers for
    the other one."""
    document = selectors.seatmap_document_get(event_id=event_id)
    compressed = _accepts_gzip(request)
    etag = document.etag[:-1] + '-gzip"' if compressed else document.etag
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    elif compressed:
        response = HttpResponse(document.body_gzip, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(document.body, content_type="application/json")
    response["ETag"] = etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = (
        f"public, max-age={max_age}" if max_age else "private, no-cache"
    )
    return response


class OrganizerSeatMapApi(APIView):
    """PUT: replace the event's seat map (full form and/or generators; see
    `services.seatmap_parse`); 422 naming the problem, nothing half-written.
    GET: the map as fans will see it, whatever the event's status."""

    permission_classes = (IsOrganizer,)

    @extend_schema(
        request=dict[str, Any],
        responses={200: OpenApiResponse(description="the replaced map's summary")},
    )
    def put(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        started = time.perf_counter()
        seatmap = seatmap_replace(event=event, data=request.data, actor=request.user)
        return Response(
            {
                "event_id": event.pk,
                "layout_version": seatmap.layout_version,
                "seat_count": seatmap.seat_count,
                "load_seconds": round(time.perf_counter() - started, 3),
            }
        )

    @extend_schema(responses={200: OpenApiResponse(description="the seat map")})
    def get(self, request: Request, event_id: int) -> HttpResponse:
        assert isinstance(request.user, User)
        event_selectors.event_get_for_organizer(event_id=event_id, viewer=request.user)
        return _seatmap_response(request._request, event_id, max_age=0)


class OrganizerSeatBlockApi(APIView):
    """Block or unblock seats: `{"seat_ids": [...], "blocked": true|false}`."""

    permission_classes = (IsOrganizer,)

    class OrganizerSeatBlockInputSerializer(serializers.Serializer[Any]):
        seat_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            allow_empty=False,
            max_length=100_000,
        )
        blocked = serializers.BooleanField()

    @extend_schema(request=OrganizerSeatBlockInputSerializer, responses={200: None})
    def post(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        serializer = self.OrganizerSeatBlockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seatmap = seats_block_set(
            event=event, actor=request.user, **serializer.validated_data
        )
        return Response(
            {
                "event_id": event.pk,
                "blocked_version": seatmap.blocked_version,
                "seat_count": len(set(serializer.validated_data["seat_ids"])),
                "blocked": serializer.validated_data["blocked"],
            }
        )


class SeatMapApi(APIView):
    """The published event's seat map: large, changes only when the organizer
    replaces it, so cacheable for long (ETag = layout version; 304 on match)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(responses={200: OpenApiResponse(description="the seat map")})
    def get(self, request: Request, event_id: int) -> HttpResponse:
        event_selectors.event_get_published(event_id=event_id)
        return _seatmap_response(
            request._request, event_id, max_age=settings.SEATMAP_CACHE_SECONDS
        )


class AvailabilityApi(APIView):
    """Which seats are taken: one bitmap (base64, bit i = seat index i), the same
    for everyone and cacheable for one second, so a 50,000-seat map costs about
    8 KB per poll and a CDN answers nearly all of them."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(responses={200: OpenApiResponse(description="availability")})
    def get(self, request: Request, event_id: int) -> Response:
        event_selectors.event_get_published(event_id=event_id)
        snapshot = selectors.availability_snapshot(event_id=event_id)
        response = Response(snapshot.as_document())
        response["Cache-Control"] = "public, max-age=1"
        response["ETag"] = (
            f'"availability-{event_id}-{snapshot.generation}-{snapshot.version}"'
        )
        return response


# --- Holds ------------------------------------------------------------------------


def _hold_document(hold: Hold) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_id,
        "event_id": hold.event_id,
        "expires_at": hold.expires_at.isoformat(),
        "expires_in_seconds": max(0, int(hold.expires_at.timestamp() - time.time())),
        "currency": hold.currency,
        "seats": [
            {
                "id": line.seat_id,
                "section": line.section,
                "row": line.row,
                "label": line.label,
                "category": line.category,
                "price": str(line.unit_price),
            }
            for line in hold.lines
            if line.seat_id is not None
        ],
        "general_admission": [
            {
                "category": line.category,
                "name": line.category_name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
            }
            for line in hold.lines
            if line.seat_id is None
        ],
        "total": str(hold.total),
        "adjacent": hold.adjacent,
        "replaced_hold_id": hold.replaced_hold_id,
        "version": hold.version,
    }


class HoldCreateApi(APIView):
    """Hold seats: `{"seats": [ids]}` or `{"category": code, "quantity": n}`.
    Needs the waiting room's access token (`X-Access-Token`). All or nothing;
    a new hold replaces the session's previous one."""

    permission_classes = (IsAuthenticated, AccessTokenRequired)

    class HoldCreateInputSerializer(serializers.Serializer[Any]):
        seats = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
            required=False,
            allow_empty=False,
            max_length=1000,
        )
        category = serializers.CharField(max_length=16, required=False)
        quantity = serializers.IntegerField(min_value=1, max_value=1000, required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("seats" in attrs) == ("category" in attrs):
                raise serializers.ValidationError(
                    "Send either seats or category and quantity."
                )
            if "category" in attrs and "quantity" not in attrs:
                raise serializers.ValidationError({"quantity": "This is required."})
            return attrs

    @extend_schema(request=HoldCreateInputSerializer, responses={201: dict[str, Any]})
    def post(self, request: Request, event_id: int) -> Response:
        serializer = self.HoldCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event_selectors.event_get_published(event_id=event_id)
        claims = request.access_claims  # type: ignore[attr-defined]
        hold = services.hold_create(
            event_id=event_id,
            user_id=int(claims.user_id),
            session_id=claims.session_id,
            session_expires_at=int(claims.expires_at),
            seat_ids=data.get("seats"),
            category=data.get("category"),
            quantity=data.get("quantity"),
        )
        return Response(_hold_document(hold), status=status.HTTP_201_CREATED)


class HoldCurrentApi(APIView):
    """The session's active hold (the seat page asks after a reload), or 204
    when the session holds nothing: not an error, every fresh page asks."""

    permission_classes = (IsAuthenticated, AccessTokenRequired)

    @extend_schema(responses={200: dict[str, Any], 204: None})
    def get(self, request: Request, event_id: int) -> Response:
        claims = request.access_claims  # type: ignore[attr-defined]
        hold = selectors.hold_find(
            event_id=event_id, user_id=int(claims.user_id), session_id=claims.session_id
        )
        if hold is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_hold_document(hold))


class HoldDetailApi(APIView):
    """GET / DELETE (release) one of the signed-in fan's holds; anyone else's,
    expired or unknown holds are 404."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: dict[str, Any]})
    def get(self, request: Request, event_id: int, hold_id: int) -> Response:
        assert isinstance(request.user, User)
        hold = selectors.hold_get(
            event_id=event_id, user_id=request.user.pk, hold_id=hold_id
        )
        return Response(_hold_document(hold))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, event_id: int, hold_id: int) -> Response:
        assert isinstance(request.user, User)
        services.hold_release(
            event_id=event_id, hold_id=hold_id, user_id=request.user.pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
