"""Pages of the event catalog."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from onsale.events.selectors import event_list_published


def home(request: HttpRequest) -> HttpResponse:
    """The front page: the events on sale or coming up, each with its
    waiting room."""
    events = list(event_list_published(limit=20))
    return render(request, "events/home.html", {"events": events})
