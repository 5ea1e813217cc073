"""Orders API: a fan's orders and tickets (owner only: everyone else gets 404),
cancellation, and the organizer's live sales figures."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.orders import documents, fulfilment, inventory, refunds, selectors
from onsale.orders.exceptions import OrderDocumentNotReady, TicketNotFound
from onsale.orders.models import Order
from onsale.orders.serializers import OrderOutputSerializer, order_payload
from onsale.usermgmt.models import User
from onsale.usermgmt.permissions import IsOrganizer


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class OrderListApi(APIView):
    """The caller's orders, newest first."""

    permission_classes = (IsAuthenticated,)

    class OrderListFilterSerializer(serializers.Serializer[Any]):
        limit = serializers.IntegerField(min_value=1, max_value=100, default=50)
        offset = serializers.IntegerField(min_value=0, default=0)

    @extend_schema(
        operation_id="orders_list",
        parameters=[OrderListFilterSerializer],
        responses={
            200: inline_serializer(
                "OrderList", {"results": OrderOutputSerializer(many=True)}
            )
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.OrderListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        orders = selectors.order_list_for_user(
            user=_user(request), **filters.validated_data
        )
        return Response({"results": [order_payload(order) for order in orders]})


class OrderDetailApi(APIView):
    """One order of the caller; anyone else's is 404."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={200: OrderOutputSerializer})
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_get_for_owner(order_id=order_id, user=_user(request))
        return Response(order_payload(order))


class OrderCancelApi(APIView):
    """Cancel a paid order within the event's refund policy: refund, tickets
    voided, seats back on sale."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    def post(self, request: Request, order_id: int) -> Response:
        order = selectors.order_get_for_owner(order_id=order_id, user=_user(request))
        order = refunds.order_cancel(order=order)
        return Response(
            order_payload(
                selectors.order_get_for_owner(order_id=order.pk, user=_user(request))
            )
        )


class TicketQrApi(APIView):
    """A ticket's QR code as PNG or SVG (owner only; 404 otherwise)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "image_format", str, OpenApiParameter.PATH, enum=["png", "svg"]
            )
        ],
        responses={(200, "image/png"): bytes, (200, "image/svg+xml"): bytes},
    )
    def get(self, request: Request, ticket_id: int, image_format: str) -> HttpResponse:
        if image_format not in ("png", "svg"):
            raise TicketNotFound()
        ticket = selectors.ticket_get_for_owner(
            ticket_id=ticket_id, user=_user(request)
        )
        if image_format == "svg":
            response = HttpResponse(
                documents.ticket_qr_svg(ticket=ticket), content_type="image/svg+xml"
            )
        else:
            response = HttpResponse(
                documents.ticket_qr_png(ticket=ticket), content_type="image/png"
            )
        response["Cache-Control"] = "private, no-store"
        return response


class OrderPdfApi(APIView):
    """The order's printable PDF (owner only; 404 otherwise, and until the
    tickets are issued). Rendered and stored on first use if the worker did
    not already."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, order_id: int) -> FileResponse:
        order = selectors.order_get_for_owner(order_id=order_id, user=_user(request))
        if order.state != Order.State.PAID or order.tickets_issued_at is None:
            raise OrderDocumentNotReady()
        name = order.pdf.name or fulfilment.order_pdf_store(order_id=order.pk)
        response = FileResponse(
            default_storage.open(name, "rb"),
            content_type="application/pdf",
            filename=f"tickets-order-{order.pk}.pdf",
        )
        response["Cache-Control"] = "private, no-store"
        return response


class EventSalesApi(APIView):
    """Live sales of one event for its organizers (and staff); 404 for
    everyone else."""

    permission_classes = (IsOrganizer,)

    @extend_schema(responses={200: dict})
    def get(self, request: Request, event_id: int) -> Response:
        event = inventory.event_for_organizer(event_id=event_id, viewer=_user(request))
        sales = selectors.event_sales_get(event=event)
        response = Response(
            {
                "event_id": sales.event_id,
                "currency": sales.currency,
                "tickets_sold": sales.tickets_sold,
                "revenue": str(sales.revenue),
                "tickets_refunded": sales.tickets_refunded,
                "refunded": str(sales.refunded),
                "orders": {
                    "paid": sales.orders_paid,
                    "pending": sales.orders_pending,
                    "cancelled_or_refunded": sales.orders_refunded,
                },
                "categories": [
                    {
                        "category_id": category.category_id,
                        "name": category.name,
                        "tickets_sold": category.tickets_sold,
                        "revenue": str(category.revenue),
                        "tickets_refunded": category.tickets_refunded,
                        "refunded": str(category.refunded),
                    }
                    for category in sales.categories
                ],
            }
        )
        response["Cache-Control"] = "private, no-store"
        return response
