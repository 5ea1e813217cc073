"""The organizer web console: event list, event editor with seat map upload,
and the live control room.

The pages only carry the event's facts and the API URLs; every change goes
through the organizer JSON API (session cookie + CSRF token), so the rules,
the scoping and the audit log are the API's. Fans get 403; another
organization's event is 404, as in the API.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from onsale.console.live import event_seat_counts_get
from onsale.events import selectors as event_selectors
from onsale.events.models import Event, default_time_zone
from onsale.platform.exceptions import NotFound
from onsale.seatselection.seatmaps.export import seatmap_source_get
from onsale.seatselection.seatmaps.write import seatmap_replace_refusal
from onsale.usermgmt.models import User

# What the seat map box starts with: the compact (generator) form.
COMPACT_EXAMPLE = json.dumps(
    {
        "categories": [
            {"code": "A", "name": "Stalls", "price": "60.00"},
            {"code": "B", "name": "Balcony", "price": "35.00"},
        ],
        "generate": [
            {"section": "Stalls", "rows": 10, "seats_per_row": 20, "category": "A"},
            {"section": "Balcony", "rows": 5, "seats_per_row": 24, "category": "B"},
        ],
    },
    indent=2,
)


def seatmap_text(document: dict[str, Any]) -> str:
    """A full-form seat map as JSON with one seat a line: a venue of a few
    thousand seats stays readable in the editor and is still plain JSON."""

    # One encoder for every seat: json.dumps with options builds one a call.
    one = json.JSONEncoder(ensure_ascii=False).encode

    def row_text(row: dict[str, Any]) -> str:
        head = ", ".join(
            f"{one(key)}: {one(value)}" for key, value in row.items() if key != "seats"
        )
        seats = ",\n".join("        " + one(seat) for seat in row["seats"])
        return f'      {{{head}, "seats": [\n{seats}\n      ]}}'

    parts = ["{", '  "categories": [']
    parts.append(",\n".join("    " + one(c) for c in document["categories"]))
    parts.append("  ]" + ("," if document.get("sections") else ""))
    if document.get("sections"):
        parts.append('  "sections": [')
        parts.append(
            ",\n".join(
                f'    {{"name": {one(section["name"])}, "rows": [\n'
                + ",\n".join(row_text(row) for row in section["rows"])
                + "\n    ]}"
                for section in document["sections"]
            )
        )
        parts.append("  ]")
    parts.append("}")
    return "\n".join(parts)


def _organizer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not (user.is_organizer or user.is_platform_staff):
        raise PermissionDenied("Only organizers may use the console.")
    return user


def _event(request: HttpRequest, event_id: int) -> Event:
    try:
        return event_selectors.event_get_for_organizer(
            event_id=event_id, viewer=_organizer(request)
        )
    except NotFound:
        raise Http404("No such event.") from None


def _urls(event_id: int) -> dict[str, str]:
    base = f"/api/v1/organizer/events/{event_id}"
    return {
        "event": base,
        "seatmap": f"{base}/seatmap",
        "seatmap_csv": f"{base}/seatmap.csv",
        "waitingroom": f"{base}/waitingroom",
        "live": f"{base}/live",
        "audit": f"{base}/audit",
        "sales_csv": f"{base}/sales.csv",
        "editor": f"/organizer/events/{event_id}/",
        "control": f"/organizer/events/{event_id}/live",
    }


@require_GET
@login_required
@ensure_csrf_cookie
def console_event_list(request: HttpRequest) -> HttpResponse:
    """The organization's events, and a form to create one (with a compact
    seat map, so a new event is ready to preview in one step)."""
    viewer = _organizer(request)
    context: dict[str, Any] = {
        "events": event_selectors.event_list_for_organizer(viewer=viewer),
        "compact_example": COMPACT_EXAMPLE,
        "is_staff": viewer.is_platform_staff,
        "default_time_zone": default_time_zone(),
    }
    return render(request, "console/event_list.html", context)


@require_GET
@login_required
@ensure_csrf_cookie
def console_event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    """The event editor: facts, publish/cancel, seat map upload with preview.

    The map box holds the event's own map (full form), so uploading it
    unchanged changes nothing; an event without a map gets the example,
    labelled as one. The page says when the map can no longer be replaced
    (the rule of `seatmap_replace`) and how many seats are held now, which
    the browser repeats in its confirmation before replacing a map."""
    event = _event(request, event_id)
    source = seatmap_source_get(event=event)
    refusal = seatmap_replace_refusal(event=event)
    counts = event_seat_counts_get(event=event)
    context = {
        "event": event,
        "urls": _urls(event.pk),
        "seatmap": source,
        "seatmap_text": seatmap_text(source.document) if source else COMPACT_EXAMPLE,
        "seatmap_locked": refusal is not None,
        "onsale_started": bool(refusal and refusal.extra.get("onsale_started")),
        "seats_sold": bool(refusal and refusal.extra.get("seats_sold")),
        "seats_held": counts.seats_held,
        "holds_active": counts.holds_active,
        "statuses": Event.Status,
    }
    return render(request, "console/event_edit.html", context)


@require_GET
@login_required
@ensure_csrf_cookie
def console_control_room(request: HttpRequest, event_id: int) -> HttpResponse:
    """The live control room: numbers, chart, controls and the audit log."""
    event = _event(request, event_id)
    context = {"event": event, "urls": _urls(event.pk)}
    return render(request, "console/control_room.html", context)
