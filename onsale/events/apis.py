"""Event catalog API: the published events for fans, and the organizer's
events to list, create and change."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.events import selectors, services
from onsale.events.models import Event
from onsale.platform.exceptions import InvalidInput
from onsale.usermgmt.models import Organization, User
from onsale.usermgmt.permissions import IsOrganizer


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
            "time_zone",
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
            "time_zone",
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
        # An IANA name; left out, the site's TIME_ZONE. The service checks it.
        time_zone = serializers.CharField(max_length=64, required=False)
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
        time_zone = serializers.CharField(max_length=64, required=False)
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
