"""The admin site for support staff: it shows what the platform holds and
changes almost nothing.

Writes belong to the apps' services, which keep their rules (a seat is sold
once, an order moves through its states by conditional updates) and the
audit log; an admin form saving a whole row would bypass both. So the admin
classes of the apps build on `SupportAdmin`: every active staff account may
list and open each record, nobody adds or deletes one here, and only the
fields a class names in `editable_fields` may be changed, by accounts with
the model's change permission, through the class's own `save_model`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

_M = TypeVar("_M", bound=models.Model)


def _is_support(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


class SupportAdmin(admin.ModelAdmin[_M]):
    """Read-mostly: staff view, nobody adds or deletes, `editable_fields`
    (none by default: fully read-only) are all that a change may touch."""

    editable_fields: tuple[str, ...] = ()
    list_per_page = 50
    # Counting a large table for every page (orders, audit entries) is slow.
    show_full_result_count = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_support(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_support(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self.editable_fields) and super().has_change_permission(
            request, obj
        )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> list[str] | tuple[Any, ...]:
        hidden = set(self.exclude or ())
        return [
            field.name
            for field in self.model._meta.fields
            if field.name not in self.editable_fields and field.name not in hidden
        ] + list(self.readonly_fields)


class SupportInline(admin.TabularInline[Any, Any]):
    """A read-only table of related rows on a record's page."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_support(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
