"""Event catalog, seat map, availability and hold API."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
)
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.platform.exceptions import InvalidInput
from onsale.seatselection import selectors, services
from onsale.seatselection.models import Event
from onsale.seatselection.selectors import Hold
from onsale.usermgmt.models import Organization, User
from onsale.usermgmt.permissions import IsOrganizer
from onsale.waitingroom.access import AccessTokenRequired

# --- Events -------------------------------------------------------------------


class EventOutputSerializer(serializers.ModelSerializer[Event]):
    class Meta:
        model = Event
        fields = (
            "id",
            "name",
            "venue_name",
            "starts_at",
            "onsale_at",
            "currency",
            "status",
        )


class OrganizerEventOutputSerializer(serializers.ModelSerializer[Event]):
    has_seatmap = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = (
            "id",
            "organization_id",
            "name",
            "venue_name",
            "starts_at",
            "onsale_at",
            "currency",
            "status",
            "has_seatmap",
            "created_at",
            "updated_at",
        )

    def get_has_seatmap(self, event: Event) -> bool:
        return hasattr(event, "seatmap")


class EventListApi(APIView):
    """Published events, soonest first (`?limit=`, `?offset=`)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    class FilterSerializer(serializers.Serializer[Any]):
        limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
        offset = serializers.IntegerField(min_value=0, default=0)

    @extend_schema(
        operation_id="events_list",
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "EventList", {"results": EventOutputSerializer(many=True)}
            )
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.event_list_published(**filters.validated_data)
        return Response({"results": EventOutputSerializer(events, many=True).data})


class EventDetailApi(APIView):
    """One published event; drafts, cancelled and unknown events are 404."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(responses={200: EventOutputSerializer})
    def get(self, request: Request, event_id: int) -> Response:
        event = selectors.event_get_published(event_id=event_id)
        return Response(EventOutputSerializer(event).data)


class OrganizerEventCollectionApi(APIView):
    """GET: the organization's events. POST: create one (organizers only; staff
    name the `organization_id`)."""

    permission_classes = (IsOrganizer,)

    class OrganizerEventCollectionInputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=200)
        venue_name = serializers.CharField(max_length=200)
        starts_at = serializers.DateTimeField()
        onsale_at = serializers.DateTimeField()
        currency = serializers.CharField(max_length=8, default="EUR")
        status = serializers.ChoiceField(
            choices=[Event.Status.DRAFT, Event.Status.PUBLISHED],
            default=Event.Status.DRAFT,
        )
        organization_id = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(
        operation_id="organizer_events_list",
        responses={
            200: inline_serializer(
                "OrganizerEventList",
                {"results": OrganizerEventOutputSerializer(many=True)},
            )
        },
    )
    def get(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        events = selectors.event_list_for_organizer(viewer=request.user)
        return Response(
            {"results": OrganizerEventOutputSerializer(events, many=True).data}
        )

    @extend_schema(
        request=OrganizerEventCollectionInputSerializer,
        responses={201: OrganizerEventOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        assert isinstance(request.user, User)
        serializer = self.OrganizerEventCollectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization_id = data.pop("organization_id", None)
        organization = _organization_for(request.user, organization_id)
        event = services.event_create(
            organization=organization, actor=request.user, **data
        )
        return Response(
            OrganizerEventOutputSerializer(event).data, status=status.HTTP_201_CREATED
        )


def _organization_for(user: User, organization_id: int | None) -> Organization:
    """Organizers create in their own organization; staff must say which."""
    if user.is_platform_staff:
        organization = (
            Organization.objects.filter(pk=organization_id).first()
            if organization_id
            else None
        )
        if organization is None:
            raise InvalidInput(
                "Staff must name an existing organization_id.",
                code="organization_required",
                extra={"field": "organization_id"},
            )
        return organization
    assert user.organization is not None
    return user.organization


class OrganizerEventDetailApi(APIView):
    """GET / PATCH an event of the viewer's organization (others: 404)."""

    permission_classes = (IsOrganizer,)

    class OrganizerEventDetailInputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=200, required=False)
        venue_name = serializers.CharField(max_length=200, required=False)
        starts_at = serializers.DateTimeField(required=False)
        onsale_at = serializers.DateTimeField(required=False)
        currency = serializers.CharField(max_length=8, required=False)
        status = serializers.ChoiceField(choices=Event.Status.choices, required=False)

    @extend_schema(responses={200: OrganizerEventOutputSerializer})
    def get(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        return Response(OrganizerEventOutputSerializer(event).data)

    @extend_schema(
        request=OrganizerEventDetailInputSerializer,
        responses={200: OrganizerEventOutputSerializer},
    )
    def patch(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        serializer = self.OrganizerEventDetailInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_update(
            event=event, actor=request.user, **serializer.validated_data
        )
        return Response(OrganizerEventOutputSerializer(event).data)


# --- Seat maps ------------------------------------------------------------------


def _seatmap_response(
    request: HttpRequest, event_id: int, max_age: int
) -> HttpResponse:
    document = selectors.seatmap_document_get(event_id=event_id)
    etag = document.etag
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(document.body, content_type="application/json")
    response["ETag"] = etag
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
        event = selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        started = time.perf_counter()
        seatmap = services.seatmap_replace(
            event=event, data=request.data, actor=request.user
        )
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
        selectors.event_get_for_organizer(event_id=event_id, viewer=request.user)
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
        event = selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        serializer = self.OrganizerSeatBlockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seatmap = services.seats_block_set(
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
        selectors.event_get_published(event_id=event_id)
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
        selectors.event_get_published(event_id=event_id)
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
        selectors.event_get_published(event_id=event_id)
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
