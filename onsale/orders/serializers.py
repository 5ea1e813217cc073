"""The order as every API shows it, checkout's answer included: the output
serializers live here, below both apps' views, so checkout's view does not
import the orders API module."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from onsale.orders.models import Order, OrderLine
from onsale.orders.selectors import order_payment_status


class TicketOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    qr_png_url = serializers.SerializerMethodField()
    qr_svg_url = serializers.SerializerMethodField()

    def get_qr_png_url(self, ticket: Any) -> str:
        return f"/api/v1/tickets/{ticket.pk}/qr.png"

    def get_qr_svg_url(self, ticket: Any) -> str:
        return f"/api/v1/tickets/{ticket.pk}/qr.svg"


class OrderLineOutputSerializer(serializers.ModelSerializer[OrderLine]):
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = (
            "id",
            "seat_id",
            "seat_label",
            "category_id",
            "category_name",
            "price",
            "ticket",
        )

    def get_ticket(self, line: OrderLine) -> dict[str, Any] | None:
        ticket = getattr(line, "ticket", None)
        order_state = self.context.get("order_state")
        if (
            ticket is None
            or ticket.voided_at is not None
            or order_state != Order.State.PAID
        ):
            return None
        return dict(TicketOutputSerializer(ticket).data)


class OrderOutputSerializer(serializers.ModelSerializer[Order]):
    # Plain text in the schema (no enum component): several apps have a
    # "state" and their enum names would collide.
    state = serializers.CharField(
        help_text="pending, paid, failed, expired, cancelled or refunded"
    )
    event = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    payment_status = serializers.SerializerMethodField(
        help_text=(
            "Where the payment stands for the fan: code (payment_processing, "
            "payment_confirming: the charge's outcome is being confirmed with "
            "the bank, paid, payment_failed, order_expired, order_cancelled, "
            "order_refunded) and message"
        )
    )

    class Meta:
        model = Order
        fields = (
            "id",
            "state",
            "payment_status",
            "event",
            "currency",
            "total",
            "refunded_amount",
            "hold_id",
            "buyer",
            "lines",
            "pdf_url",
            "failure_reason",
            "created_at",
            "expires_at",
            "paid_at",
            "closed_at",
        )

    def get_event(self, order: Order) -> dict[str, Any]:
        event = order.event
        return {
            "id": event.pk,
            "name": event.name,
            "starts_at": event.starts_at.isoformat(),
        }

    def get_buyer(self, order: Order) -> dict[str, str]:
        return {"name": order.buyer_name, "email": order.buyer_email}

    def get_lines(self, order: Order) -> list[dict[str, Any]]:
        lines = OrderLineOutputSerializer(
            order.lines.all(), many=True, context={"order_state": order.state}
        )
        return [dict(line) for line in lines.data]

    def get_payment_status(self, order: Order) -> dict[str, str]:
        status = order_payment_status(order=order)
        return {"code": status.code, "message": status.message}

    def get_pdf_url(self, order: Order) -> str | None:
        if order.state != Order.State.PAID or order.tickets_issued_at is None:
            return None
        return f"/api/v1/orders/{order.pk}/tickets.pdf"


def order_payload(order: Order) -> dict[str, Any]:
    """The order as every API shows it (checkout's answer included)."""
    return dict(OrderOutputSerializer(order).data)
