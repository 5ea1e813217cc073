"""Pages of the event catalog."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from onsale.events.selectors import event_search_published

EVENTS_PER_PAGE = 20
# Longer searches are cut: no event name or venue is longer than 200.
SEARCH_MAX_LENGTH = 200


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The front page: the published events, soonest first, searchable by name
    or venue (`?q=`) and paged (`?page=`), each with its page and its waiting
    room.

    A page number past the end shows the last page and one that is not a
    number the first (Django's `Paginator.get_page`), so an old or edited
    link still lands on events rather than on an error.
    """
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    paginator = Paginator(event_search_published(query=query), EVENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "events/home.html",
        {"page": page, "events": page.object_list, "query": query},
    )
