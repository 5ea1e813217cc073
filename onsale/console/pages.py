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

from onsale.events import selectors as event_selectors
from onsale.events.models import Event, default_time_zone
from onsale.platform.exceptions import NotFound
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
    """The event editor: facts, publish/cancel, seat map upload with preview."""
    event = _event(request, event_id)
    context = {
        "event": event,
        "urls": _urls(event.pk),
        "compact_example": COMPACT_EXAMPLE,
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
