"""Checkout API: POST /checkout (the saga, behind an Idempotency-Key) and the
payment provider's webhook."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.checkout import services
from onsale.checkout.exceptions import PaymentDeclined
from onsale.checkout.idempotency import (
    IDEMPOTENCY_HEADER,
    IdempotencyClaim,
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_key_validate,
    idempotency_request_hash,
)
from onsale.checkout.models import IdempotencyRecord
from onsale.orders import inventory
from onsale.orders.exceptions import AccessTokenMissing
from onsale.orders.selectors import order_with_details
from onsale.orders.serializers import OrderOutputSerializer, order_payload
from onsale.payments import PaymentSource
from onsale.platform.exceptions import error_body
from onsale.usermgmt.models import User


class PaymentInputSerializer(serializers.Serializer[Any]):
    """A provider token (what a real provider's browser SDK returns) or, for
    the fake provider's test mode, a test card number."""

    token = serializers.CharField(max_length=255, required=False, allow_blank=True)
    card_number = serializers.RegexField(
        r"^[0-9 ]{12,23}$", required=False, allow_blank=True
    )
    exp_month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    cvc = serializers.RegexField(r"^[0-9]{3,4}$", required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("token")) == bool(attrs.get("card_number")):
            raise serializers.ValidationError(
                "Give either a payment token or a card number."
            )
        return attrs


class BuyerInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)


class CheckoutApi(APIView):
    """Check out a hold: 201 with the paid order when the charge completed
    within a short wait, 202 with the pending order otherwise (poll
    GET /orders/{id}), 422 `payment_declined` when the card was declined (the
    order is failed, the seats are released). Needs `X-Access-Token` and an
    `Idempotency-Key`: a retry with the same key and body replays the first
    answer, status and body."""

    permission_classes = (IsAuthenticated,)

    class CheckoutInputSerializer(serializers.Serializer[Any]):
        hold_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
        event_id = serializers.IntegerField(
            min_value=1, max_value=2**63 - 1, required=False
        )
        payment = PaymentInputSerializer()
        buyer = BuyerInputSerializer()

    @extend_schema(
        request=CheckoutInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=True
            ),
            OpenApiParameter(
                inventory.ACCESS_TOKEN_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
            ),
        ],
        responses={201: OrderOutputSerializer, 202: OrderOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)
        key = idempotency_key_validate(key=request.headers.get(IDEMPOTENCY_HEADER))
        serializer = self.CheckoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = idempotency_begin(
            user=user,
            key=key,
            request_hash=idempotency_request_hash(payload=request.data),
        )
        if claim.is_replay:
            response = Response(claim.replay_body, status=claim.replay_status)
            response["Idempotent-Replayed"] = "true"
            return response
        assert claim.record is not None
        answered = False
        try:
            result = self._run(request, user, serializer.validated_data, claim)
            code, body, declined = self._answer(result)
            idempotency_complete(record=claim.record, status=code, body=body)
            answered = True
        finally:
            if not answered:
                _idempotency_release(claim.record)
        if declined is not None:
            raise declined
        return Response(body, status=code)

    @staticmethod
    def _run(
        request: Request, user: User, data: dict[str, Any], claim: IdempotencyClaim
    ) -> services.CheckoutResult:
        if claim.resume_order_id is not None:
            return services.checkout_result_get(order_id=claim.resume_order_id)
        token = request.headers.get(inventory.ACCESS_TOKEN_HEADER, "")
        if not token:
            raise AccessTokenMissing()
        event_id = data.get("event_id") or inventory.access_event_id(token=token)
        session_id = inventory.access_verify(token=token, user=user, event_id=event_id)
        payment = data["payment"]
        assert claim.record is not None
        return services.checkout_submit(
            user=user,
            event_id=event_id,
            hold_id=data["hold_id"],
            session_id=session_id,
            buyer=services.Buyer(
                name=data["buyer"]["name"], email=data["buyer"]["email"]
            ),
            source=PaymentSource(
                token=payment.get("token", ""),
                card_number=payment.get("card_number", ""),
                exp_month=payment.get("exp_month"),
                exp_year=payment.get("exp_year"),
                cvc=payment.get("cvc", ""),
            ),
            idempotency_record_id=claim.record.pk,
        )

    @staticmethod
    def _answer(
        result: services.CheckoutResult,
    ) -> tuple[int, Any, PaymentDeclined | None]:
        order = order_with_details(order_id=result.order.pk)
        if result.outcome == "failed":
            declined = PaymentDeclined(
                extra={
                    "order_id": order.pk,
                    "state": order.state,
                    "reason": result.reason or order.failure_reason,
                }
            )
            body = error_body(declined.code, declined.message, declined.extra)
            return 422, body, declined
        if result.outcome == "paid":
            return status.HTTP_201_CREATED, order_payload(order), None
        # Pending: the order as the saga left it (a worker may settle it any
        # moment; the client polls GET /orders/{id}).
        return status.HTTP_202_ACCEPTED, order_payload(result.order), None


def _idempotency_release(record: IdempotencyRecord) -> None:
    """The request failed before answering. Without an order, forget the key
    (the client may fix the cause and retry with it); with one, free the
    lease so a retry resumes that order at once."""
    order_id = (
        IdempotencyRecord.objects.filter(pk=record.pk)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        idempotency_abandon(record=record)
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            locked_until=timezone.now()
        )


class PaymentWebhookApi(APIView):
    """The payment provider's webhook: signature (HMAC-SHA256 with timestamp)
    and replay window checked, event ids deduplicated."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        processed = services.payment_webhook_receive(
            payload=request.body, headers=request.headers
        )
        return Response({"received": True, "duplicate": not processed})
