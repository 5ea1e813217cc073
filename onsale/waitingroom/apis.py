"""Waiting room API: join, status, me (the claim), done, reclaim and rejoin (a
lapsed turn), organizer config, JWKS."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from knox.auth import TokenAuthentication
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.platform.clientip import client_ip
from onsale.usermgmt.models import User
from onsale.usermgmt.permissions import IsOrganizer
from onsale.waitingroom import selectors, services
from onsale.waitingroom.authentication import QueueSessionAuthentication
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.selectors import QueueStatus
from onsale.waitingroom.services import LIMITS, QueuePosition


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


# The queue's hot endpoints: bearer tokens as everywhere, and the session
# cookie read with one narrow query (see authentication.py).
QUEUE_AUTHENTICATION = (TokenAuthentication, QueueSessionAuthentication)


class QueuePlaceOutputSerializer(serializers.Serializer[Any]):
    """Documents the join answer (built as a dict: this is the hot path)."""

    event_id = serializers.IntegerField()
    number = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()


class QueueJoinApi(APIView):
    """Join the event's waiting room. 201 with the new place, 200 with the
    place the fan already had (one place per account). `number` is null while
    the fan is in the pre-queue, which is drawn at the on-sale."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={200: QueuePlaceOutputSerializer})
    def post(self, request: Request, event_id: int) -> Response:
        place = services.queue_join(
            event_id=event_id, user_id=_user(request).pk, ip=client_ip(request)
        )
        return Response(
            {"event_id": place.event_id, "number": place.number, "state": place.state},
            status=status.HTTP_201_CREATED if place.joined_now else status.HTTP_200_OK,
        )


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def status_document(queue: QueueStatus) -> dict[str, Any]:
    draw = queue.draw
    return {
        "event_id": queue.event_id,
        "state": queue.state,
        "serving": queue.serving,
        "issued": queue.issued,
        "waiting": queue.waiting,
        "prequeue_size": queue.prequeue_size,
        "admitted_unclaimed": queue.admitted_unclaimed,
        "active": queue.active,
        "max_active": queue.max_active,
        "rate_per_minute": queue.rate_per_minute,
        "burst": queue.burst,
        "measured_rate_per_minute": queue.measured_rate_per_minute,
        "prequeue_opens_at": _iso(queue.prequeue_opens_at),
        "onsale_at": _iso(queue.onsale_at),
        "prequeue_draw": None
        if draw is None
        else {
            "size": draw.size,
            "seed": draw.seed,
            "method": draw.method,
            "drawn_at": _iso(draw.drawn_at),
        },
        "server_time": _iso(queue.server_time),
    }


class QueueStatusApi(APIView):
    """The public status document: identical for every fan and cacheable for a
    second, so proxies and the CDN answer most polls. No authentication, no
    session, no cookie is read or set. Position = number - serving; the page
    computes the rest from this document and the fan's own number.
    `prequeue_draw` (seed, method, size) appears once the pre-queue is drawn.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(responses={200: dict})
    def get(self, request: Request, event_id: int) -> Response:
        document = status_document(selectors.queue_status_get(event_id=event_id))
        response = Response(document)
        response["Cache-Control"] = "public, max-age=1"
        return response


def position_document(position: QueuePosition) -> dict[str, Any]:
    grant = position.grant
    return {
        "event_id": position.event_id,
        "number": position.number,
        "state": position.state,
        "serving": position.serving,
        "ahead": position.ahead,
        "estimated_wait_seconds": position.estimated_wait_seconds,
        "claim_deadline": _iso(position.claim_deadline),
        "grace_ends_at": _iso(position.grace_ends_at),
        "session_ends_at": _iso(position.session_ends_at),
        "access_token": None if grant is None else grant.token,
        "session_id": None if grant is None else grant.claims.session_id,
    }


class QueueMeApi(APIView):
    """The fan's own place: number, state (prequeue | waiting | admitted |
    active | lapsed | expired | done), people ahead and the estimated wait (from the
    measured admission rate). This is also the claim: when the fan has been
    admitted, this call starts the shopping session and returns the access
    token (send it as X-Access-Token to seat selection and checkout); while
    the session runs, every call returns the same token. 404 not_in_queue if
    the fan has not joined."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: dict})
    def get(self, request: Request, event_id: int) -> Response:
        position = services.queue_me(event_id=event_id, user_id=_user(request).pk)
        response = Response(position_document(position))
        response["Cache-Control"] = "private, no-store"
        return response


class QueueDoneApi(APIView):
    """End the fan's shopping session early (finished or leaving), freeing the
    slot for the next fan. Idempotent: 204 whether or not a session ran."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, event_id: int) -> Response:
        services.queue_session_finish(event_id=event_id, user_id=_user(request).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueuePlaceInputSerializer(serializers.Serializer[Any]):
    """The place the fan acts on: the number their page shows. Optional; with
    it, a repeated request (a second click, a retry) gets the first one's
    answer instead of acting on whatever place the fan holds by then."""

    number = serializers.IntegerField(required=False, min_value=1)


class QueueReclaimApi(APIView):
    """Take back a lapsed turn: within the grace period after the claim window,
    the fan keeps their number and their shopping session starts now (200, the
    same document as `me`, with the access token). Repeating it while the
    session runs returns that session. 409 `turn_grace_over` once the grace
    period is over, `sold_out`, `admission_paused`, `room_full` (these three
    with `Retry-After` or `extra.grace_ends_at`: the turn is kept, try again),
    `queue_closed`, `not_admitted`, `admission_expired`, `place_changed`;
    404 `not_in_queue`."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(request=QueuePlaceInputSerializer, responses={200: dict})
    def post(self, request: Request, event_id: int) -> Response:
        serializer = QueuePlaceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        position = services.queue_turn_reclaim(
            event_id=event_id,
            user_id=_user(request).pk,
            number=serializer.validated_data.get("number"),
        )
        response = Response(position_document(position))
        response["Cache-Control"] = "private, no-store"
        return response


class QueueRejoinApi(APIView):
    """Give up a place whose turn is over (lapsed, or its session ended) for a
    new number at the back of the line: 201 with the new place, 200 with the
    same new place when repeated with the old `number`. Counted against the
    address's join limit (429). 409 `turn_not_over` while the turn has not
    come or still runs, `sold_out`, `queue_closed`, `place_changed`; 404
    `not_in_queue`."""

    authentication_classes = QUEUE_AUTHENTICATION
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=QueuePlaceInputSerializer, responses={200: QueuePlaceOutputSerializer}
    )
    def post(self, request: Request, event_id: int) -> Response:
        serializer = QueuePlaceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        place = services.queue_rejoin(
            event_id=event_id,
            user_id=_user(request).pk,
            ip=client_ip(request),
            number=serializer.validated_data.get("number"),
        )
        return Response(
            {"event_id": place.event_id, "number": place.number, "state": place.state},
            status=status.HTTP_201_CREATED if place.joined_now else status.HTTP_200_OK,
        )


class WaitingRoomConfigOutputSerializer(serializers.ModelSerializer[WaitingRoomConfig]):
    class Meta:
        model = WaitingRoomConfig
        fields = (
            "event_id",
            "state",
            "prequeue_opens_at",
            "onsale_at",
            "rate_per_minute",
            "burst",
            "max_active",
            "session_seconds",
            "claim_seconds",
            "max_seats_per_fan",
            "version",
            "updated_at",
        )

    event_id = serializers.IntegerField()


def _bounded(name: str) -> serializers.IntegerField:
    low, high = LIMITS[name]
    return serializers.IntegerField(required=False, min_value=low, max_value=high)


class WaitingRoomConfigPatchSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(
        choices=WaitingRoomConfig.State.choices, required=False
    )
    prequeue_opens_at = serializers.DateTimeField(required=False)
    onsale_at = serializers.DateTimeField(required=False)
    rate_per_minute = _bounded("rate_per_minute")
    burst = _bounded("burst")
    max_active = _bounded("max_active")
    session_seconds = _bounded("session_seconds")
    claim_seconds = _bounded("claim_seconds")
    max_seats_per_fan = _bounded("max_seats_per_fan")


class OrganizerWaitingRoomApi(APIView):
    """GET or PATCH an event's waiting room configuration: the event's own
    organizers (and staff) only; other organizations get 404, fans 403.
    Changes are live within a second."""

    permission_classes = (IsOrganizer,)

    @extend_schema(responses={200: WaitingRoomConfigOutputSerializer})
    def get(self, request: Request, event_id: int) -> Response:
        config = services.waitingroom_config_get_for_organizer(
            event_id=event_id, actor=_user(request)
        )
        return Response(WaitingRoomConfigOutputSerializer(config).data)

    @extend_schema(
        request=WaitingRoomConfigPatchSerializer,
        responses={200: WaitingRoomConfigOutputSerializer},
    )
    def patch(self, request: Request, event_id: int) -> Response:
        serializer = WaitingRoomConfigPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        config = services.waitingroom_config_update(
            event_id=event_id, actor=_user(request), **serializer.validated_data
        )
        return Response(WaitingRoomConfigOutputSerializer(config).data)


class JwksApi(APIView):
    """The public keys that verify access tokens (RFC 7517 JWK Set)."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        response = Response(selectors.jwks_get())
        response["Cache-Control"] = "public, max-age=300"
        return response
