"""DRF permissions by role."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsOrganizer(BasePermission):
    """Organizers with an organization, and platform staff."""

    message = "Only organizers may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (
                getattr(user, "is_organizer", False)
                or getattr(user, "is_platform_staff", False)
            )
        )
