"""Reads about accounts and organizations."""

from __future__ import annotations

from django.db.models import QuerySet

from onsale.platform.exceptions import NotFound
from onsale.usermgmt.models import Organization, User


def organization_get_for_viewer(*, organization_id: int, viewer: User) -> Organization:
    """The organization, if `viewer` may see it: its own organizers and staff.

    Anyone else gets `NotFound`, exactly as for an id that does not exist, so
    ids cannot be probed.
    """
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound()
    if viewer.is_platform_staff or (
        viewer.is_organizer and viewer.organization_id == organization.pk
    ):
        return organization
    raise NotFound()


def organization_member_list(*, organization: Organization) -> QuerySet[User]:
    return organization.members.order_by("email")
