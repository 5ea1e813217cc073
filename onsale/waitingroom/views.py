"""The fan's waiting room page (server-rendered; polls the status document)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from onsale.events.models import Event
from onsale.platform.clientip import client_ip
from onsale.waitingroom import exceptions, selectors, services

# How often the page reloads itself when JavaScript is off.
NOSCRIPT_REFRESH_SECONDS = 20


def duration_text(seconds: float, *, precise: bool = False) -> str:
    """A duration in plain words, as queue.js writes it: "4 min", "1 h 5 min",
    under a minute "less than a minute"; `precise` (the countdown) keeps the
    seconds under an hour: "4 min 10 s", "42 s"."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if precise else f"{minutes} min"
    return f"{secs} s" if precise else "less than a minute"


@require_http_methods(["GET", "POST"])
def queue_page(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET shows the room and, for a signed-in fan who joined, their place;
    POST joins (works without JavaScript) and redirects back (post/redirect/get).
    """
    event = get_object_or_404(
        Event.objects.exclude(status=Event.Status.DRAFT), pk=event_id
    )
    page_url = reverse("waitingroom:queue-page", args=[event.pk])
    error = None
    status_code = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(page_url, settings.LOGIN_URL)
        try:
            services.queue_join(
                event_id=event.pk, user_id=request.user.pk, ip=client_ip(request)
            )
        except (
            exceptions.QueueClosed,
            exceptions.QueueNotOpen,
            exceptions.JoinRateLimited,
        ) as exc:
            # An HTML form has no JSON handler to render this: say it on the page.
            error = exc.message
            status_code = (
                409 if not isinstance(exc, exceptions.JoinRateLimited) else 429
            )
        else:
            return redirect(page_url)
    queue = selectors.queue_status_get(event_id=event.pk)
    position = None
    if request.user.is_authenticated:
        try:
            position = services.queue_position_get(
                event_id=event.pk, user_id=request.user.pk
            )
        except exceptions.NotInQueue:
            position = None
    # From the measured admission rate only (None until one was measured).
    wait = position.estimated_wait_seconds if position else None
    to_onsale = (queue.onsale_at - queue.server_time).total_seconds()
    context = {
        "event": event,
        "queue": queue,
        "position": position,
        "error": error,
        "page_url": page_url,
        "refresh_seconds": NOSCRIPT_REFRESH_SECONDS,
        "status_url": reverse("waitingroom:api-queue-status", args=[event.pk]),
        "me_url": reverse("waitingroom:api-queue-me", args=[event.pk]),
        "seats_url": f"/events/{event.pk}/seats",
        "progress_max": max(position.number or 0, 1) if position else 1,
        "wait_text": duration_text(wait) if wait is not None else "",
        "seconds_to_onsale": duration_text(to_onsale, precise=True)
        if to_onsale > 0
        else "",
    }
    response = render(request, "waitingroom/queue.html", context, status=status_code)
    response["Cache-Control"] = "private, no-store"
    return response
