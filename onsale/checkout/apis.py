"""Checkout API: POST /checkout (the saga, behind an Idempotency-Key) and the
payment provider's webhook."""

from __future__ import annotations

from typing import Any

from django.utils import translation
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
    REPLAYED_HEADER,
    IdempotencyClaim,
    IdempotentAnswer,
    idempotency_key_validate,
    idempotent_call,
)
from onsale.orders import inventory
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
    order is failed; the fan keeps the hold until `extra.hold_expires_at` and
    may pay again with a new Idempotency-Key). Needs `X-Access-Token` and an
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
        data = serializer.validated_data

        def run(claim: IdempotencyClaim) -> IdempotentAnswer:
            assert claim.record is not None
            result = services.checkout_submit_or_resume(
                user=user,
                access_token=request.headers.get(inventory.ACCESS_TOKEN_HEADER, ""),
                event_id=data.get("event_id"),
                hold_id=data["hold_id"],
                # The locale middleware's choice (cookie, Accept-Language).
                buyer=services.Buyer(
                    **data["buyer"], language=translation.get_language() or ""
                ),
                source=PaymentSource(**data["payment"]),
                idempotency_record_id=claim.record.pk,
                resume_order_id=claim.resume_order_id,
            )
            return _checkout_answer(result)

        answer = idempotent_call(user=user, key=key, payload=request.data, run=run)
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response


def _checkout_answer(result: services.CheckoutResult) -> IdempotentAnswer:
    """The answer to store and send: 201 paid, 202 pending, 422 declined."""
    order = order_with_details(order_id=result.order.pk)
    if result.outcome == "failed":
        expires = result.hold_expires_at
        declined = PaymentDeclined(
            extra={
                "order_id": order.pk,
                "state": order.state,
                "reason": result.reason or order.failure_reason,
                "hold_id": order.hold_id,
                "hold_expires_at": None if expires is None else expires.isoformat(),
            }
        )
        body = error_body(declined.code, declined.message, declined.extra)
        return IdempotentAnswer(status=422, body=body, error=declined)
    if result.outcome == "paid":
        return IdempotentAnswer(
            status=status.HTTP_201_CREATED, body=order_payload(order)
        )
    # Pending: the order as the saga left it (a worker may settle it any
    # moment; the client polls GET /orders/{id}).
    return IdempotentAnswer(
        status=status.HTTP_202_ACCEPTED, body=order_payload(result.order)
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
