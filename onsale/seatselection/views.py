"""The event page and the seat selection page.

The public page of an event lives here rather than in the events app: it shows
the seat map's prices and the waiting room's schedule, and seat selection is
the lowest layer that may read all three (events < waitingroom < seatselection).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from onsale.events import selectors as event_selectors
from onsale.platform.exceptions import NotFound
from onsale.seatselection import selectors
from onsale.waitingroom import selectors as waitingroom_selectors


@require_GET
def event_page(request: HttpRequest, event_id: int) -> HttpResponse:
    """The public page of a published event: venue, date and time, on-sale
    time and prices, and the way into its waiting room.

    Times show in the event's own zone on the server; the page's script adds
    the fan's local time from the UTC timestamps. The on-sale times are the
    waiting room's (the organizer may move them there), prices the seat map's
    categories. Drafts, cancelled and unknown events are the branded 404.
    """
    try:
        event = event_selectors.event_get_published(event_id=event_id)
    except NotFound:
        raise Http404("No such event.") from None
    room = waitingroom_selectors.waitingroom_config_get(event_id=event.pk)
    prices = selectors.price_level_list(event_id=event.pk)
    zone = event.zone
    context = {
        "event": event,
        "event_zone": zone,
        "event_zone_name": zone.key,
        "prequeue_opens_at": room.prequeue_opens_at,
        "onsale_at": room.onsale_at,
        "prices": prices,
        "lowest_price": min((level.price for level in prices), default=None),
        "has_started": event.starts_at <= timezone.now(),
        "queue_url": reverse("waitingroom:queue-page", args=[event.pk]),
    }
    return render(request, "seatselection/event.html", context)


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
