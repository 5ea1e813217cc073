"""The fan's waiting room page (server-rendered; polls the status document)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from onsale.events.models import Event
from onsale.platform.clientip import client_ip
from onsale.platform.exceptions import DomainError
from onsale.waitingroom import exceptions, selectors, services, stock

# How often the page reloads itself when JavaScript is off.
NOSCRIPT_REFRESH_SECONDS = 20


def duration_text(seconds: float, *, precise: bool = False) -> str:
    """A duration in plain words in the fan's language, as queue.js writes it
    (the same catalog entries): "4 min", "1 h 5 min", under a minute "less
    than a minute"; `precise` (the countdown) keeps the seconds under an hour:
    "4 min 10 s", "42 s"."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {
            "hours": hours,
            "minutes": minutes,
        }
    if minutes:
        if precise:
            return gettext("%(minutes)s min %(seconds)s s") % {
                "minutes": minutes,
                "seconds": secs,
            }
        return gettext("%(minutes)s min") % {"minutes": minutes}
    if precise:
        return gettext("%(seconds)s s") % {"seconds": secs}
    return gettext("less than a minute")


# Refusals a fan's click on the page can meet, said on the page (an HTML form
# has no JSON error handler) with their HTTP status.
PAGE_ERRORS: tuple[type[DomainError], ...] = (
    exceptions.QueueClosed,
    exceptions.QueueNotOpen,
    exceptions.JoinRateLimited,
    exceptions.NotInQueue,
    exceptions.NotAdmitted,
    exceptions.AdmissionExpired,
    exceptions.AdmissionPaused,
    exceptions.RoomFull,
    exceptions.TurnGraceOver,
    exceptions.TurnNotOver,
    exceptions.PlaceChanged,
    exceptions.EventSoldOut,
)
# What the page says for each refusal, in the fan's language (the JSON API
# keeps the errors' English messages and their codes).
PAGE_MESSAGES = {
    exceptions.QueueClosed.code: _("This waiting room is closed."),
    exceptions.QueueNotOpen.code: _("This waiting room is not open yet."),
    exceptions.JoinRateLimited.code: _(
        "Too many attempts to join from this address; try again shortly."
    ),
    exceptions.NotInQueue.code: _("You have not joined this waiting room."),
    exceptions.NotAdmitted.code: _("It is not your turn yet."),
    exceptions.AdmissionExpired.code: _(
        "Your admission was not claimed in time or your session is over."
    ),
    exceptions.AdmissionPaused.code: _(
        "Admission is paused for the moment; try again shortly."
    ),
    exceptions.RoomFull.code: _(
        "The maximum number of active shoppers has been reached."
    ),
    exceptions.TurnGraceOver.code: _(
        "Your turn passed and can no longer be taken back; "
        "you can rejoin at the back of the line."
    ),
    exceptions.TurnNotOver.code: _("Your turn has not passed: you keep your place."),
    exceptions.PlaceChanged.code: _(
        "Your place in this line has changed; reload the page."
    ),
    exceptions.EventSoldOut.code: _("Nothing is left to choose right now."),
}


def _page_action(request: HttpRequest, event_id: int, user_id: int) -> None:
    """Run the form's action (`action`: reclaim, rejoin, or join when absent or
    anything else) for the signed-in fan; raises its refusal."""
    action = request.POST.get("action") or "join"
    number_text = request.POST.get("number", "")
    number = int(number_text) if number_text.isdigit() else None
    if action == "reclaim":
        services.queue_turn_reclaim(event_id=event_id, user_id=user_id, number=number)
    elif action == "rejoin":
        services.queue_rejoin(
            event_id=event_id,
            user_id=user_id,
            ip=client_ip(request),
            number=number,
        )
    else:
        services.queue_join(event_id=event_id, user_id=user_id, ip=client_ip(request))


@require_http_methods(["GET", "POST"])
def queue_page(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET shows the room and, for a signed-in fan who joined, their place;
    POST joins, takes back a lapsed turn (`action=reclaim`) or rejoins at the
    back (`action=rejoin`), with `number` the place the page showed; all work
    without JavaScript and redirect back (post/redirect/get).
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
            _page_action(request, event.pk, int(request.user.pk))
        except PAGE_ERRORS as exc:
            # An HTML form has no JSON handler to render this: say it on the page.
            error = str(PAGE_MESSAGES.get(exc.code, exc.message))
            status_code = {
                exceptions.JoinRateLimited: 429,
                exceptions.NotInQueue: 404,
            }.get(type(exc), 409)
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
    config = selectors.waitingroom_config_get(event_id=event.pk)
    turn_over = position is not None and position.state in (
        "lapsed",
        "expired",
        "done",
    )
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
        # How long the turn is kept once it comes (the claim window).
        "claim_text": duration_text(config.claim_seconds),
        # Asked only of a fan whose turn is over: is there anything to go back for?
        "sold_out": turn_over and stock.event_sold_out(event_id=event.pk),
    }
    response = render(request, "waitingroom/queue.html", context, status=status_code)
    response["Cache-Control"] = "private, no-store"
    return response
