"""Events in the admin site: support staff look events up; a name or venue
fixed here goes through `event_update`, so it is checked and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from onsale.events.models import Event
from onsale.events.services import event_update
from onsale.platform.admin import SupportAdmin
from onsale.usermgmt.models import User


@admin.register(Event)
class EventAdmin(SupportAdmin[Event]):
    editable_fields = ("name", "venue_name")
    list_display = (
        "id",
        "name",
        "venue_name",
        "organization",
        "status",
        "onsale_at",
        "starts_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("=id", "name", "venue_name", "organization__name")
    list_select_related = ("organization",)
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)

    def save_model(
        self, request: HttpRequest, obj: Event, form: Any, change: bool
    ) -> None:
        actor = request.user if isinstance(request.user, User) else None
        event_update(
            event=obj,
            name=form.cleaned_data["name"],
            venue_name=form.cleaned_data["venue_name"],
            actor=actor,
        )
