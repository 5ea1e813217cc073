"""The seat selection web page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from onsale.events import selectors as event_selectors
from onsale.platform.exceptions import NotFound


@require_GET
@login_required
@ensure_csrf_cookie
def seat_page(request: HttpRequest, event_id: int) -> HttpResponse:
    """The seat map page of a published event. The data comes from the API;
    the page only carries the URLs and the event's facts."""
    try:
        event = event_selectors.event_get_published(event_id=event_id)
    except NotFound:
        raise Http404("No such event.") from None
    context = {
        "event": event,
        "hold_max": settings.SEAT_HOLD_MAX_SEATS_PER_REQUEST,
        "urls": {
            "map": f"/api/v1/events/{event.pk}/seats",
            "availability": f"/api/v1/events/{event.pk}/seats/availability",
            "stream": f"/api/v1/events/{event.pk}/seats/stream",
            "holds": f"/api/v1/events/{event.pk}/holds",
            "queue": f"/events/{event.pk}/queue",
            "queue_me": f"/api/v1/events/{event.pk}/queue/me",
        },
    }
    return render(request, "seatselection/seats.html", context)
