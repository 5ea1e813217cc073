"""Organizer console API: audit log, CSV seat maps, sales CSV, live numbers.

Every view is organizers-only (fans: 403) and scoped to the viewer's
organization (another organization's event: 404, as for a missing id).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onsale.console.live import event_live_get
from onsale.events import selectors as event_selectors
from onsale.orders.selectors import event_sales_get
from onsale.platform.exceptions import InvalidInput
from onsale.seatselection.seatmaps.csv import seatmap_replace_from_csv
from onsale.usermgmt.audit import audit_list_for_event
from onsale.usermgmt.models import AuditEntry, User
from onsale.usermgmt.permissions import IsOrganizer

_MAX_CSV_BYTES = 20 * 1024 * 1024


class AuditEntryOutputSerializer(serializers.ModelSerializer[AuditEntry]):
    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "event_id",
            "actor_id",
            "actor_email",
            "action",
            "before",
            "after",
            "created_at",
        )


class OrganizerAuditApi(APIView):
    """GET: the event's audit log, newest first (at most 200 entries)."""

    permission_classes = (IsOrganizer,)

    @extend_schema(
        operation_id="organizer_event_audit",
        responses={200: AuditEntryOutputSerializer(many=True)},
    )
    def get(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        entries = audit_list_for_event(
            organization_id=event.organization_id, event_id=event.pk
        )
        return Response(
            {"results": AuditEntryOutputSerializer(entries, many=True).data}
        )


class OrganizerSeatMapCsvApi(APIView):
    """PUT a CSV seat map (body: text/csv, UTF-8; see
    `seatmap_csv.seatmap_csv_convert` for the columns). 422 naming the CSV
    line (`row`) and `column`; nothing is saved on any error."""

    permission_classes = (IsOrganizer,)

    @extend_schema(
        operation_id="organizer_seatmap_csv_put",
        # text/plain too: the same body, for clients (and API fuzzers) that
        # know no CSV media type.
        request={"text/csv": str, "text/plain": str},
        responses={200: OpenApiResponse(description="the replaced map's summary")},
    )
    def put(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        body = request.body
        if len(body) > _MAX_CSV_BYTES:
            raise InvalidInput(
                "The CSV is too large.", code="seatmap_too_large", extra={}
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(
                "The CSV must be UTF-8 text.",
                code="seatmap_csv_invalid",
                extra={"row": None, "column": None},
            ) from None
        seatmap = seatmap_replace_from_csv(event=event, text=text, actor=request.user)
        return Response(
            {
                "event_id": event.pk,
                "layout_version": seatmap.layout_version,
                "seat_count": seatmap.seat_count,
            }
        )


SALES_CSV_HEADER = (
    "category_id",
    "category",
    "tickets_sold",
    "revenue",
    "tickets_refunded",
    "refunded",
    "currency",
)


class OrganizerSalesCsvApi(APIView):
    """GET the sales report as CSV: one line per price category, then a
    `TOTAL` line (paid orders are sold; cancelled and refunded are refunds)."""

    permission_classes = (IsOrganizer,)

    @extend_schema(
        operation_id="organizer_sales_csv",
        responses={200: OpenApiResponse(description="text/csv sales report")},
    )
    def get(self, request: Request, event_id: int) -> HttpResponse:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        sales = event_sales_get(event=event)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(SALES_CSV_HEADER)
        for line in sales.categories:
            writer.writerow(
                (
                    line.category_id,
                    line.name,
                    line.tickets_sold,
                    line.revenue,
                    line.tickets_refunded,
                    line.refunded,
                    sales.currency,
                )
            )
        writer.writerow(
            (
                "",
                "TOTAL",
                sales.tickets_sold,
                sales.revenue,
                sales.tickets_refunded,
                sales.refunded,
                sales.currency,
            )
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="event-{event.pk}-sales.csv"'
        )
        response["Cache-Control"] = "private, no-store"
        return response


class OrganizerLiveApi(APIView):
    """GET the control-room numbers (see `live.event_live_get`)."""

    permission_classes = (IsOrganizer,)

    @extend_schema(
        operation_id="organizer_event_live",
        responses={200: OpenApiResponse(description="live control-room numbers")},
    )
    def get(self, request: Request, event_id: int) -> Response:
        assert isinstance(request.user, User)
        event = event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=request.user
        )
        document: dict[str, Any] = event_live_get(event=event).as_document()
        response = Response(document)
        response["Cache-Control"] = "private, no-store"
        return response
