"""Load the demo accounts (and, as services appear, the demo event) once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from onsale.usermgmt import services as usermgmt_services
from onsale.usermgmt.models import User

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - published demo logins
DEMO_ORGANIZATION = "Demo Promotions"
DEMO_EVENT = "Demo Arena Night"
# Four stands of 50 rows x 25 seats: 5,000 seats in three price levels.
DEMO_SEATMAP = {
    "categories": [
        {"code": "P1", "name": "Front", "price": "89.00", "color": "#a4161a"},
        {"code": "P2", "name": "Middle", "price": "59.00", "color": "#0b5cad"},
        {"code": "P3", "name": "Upper", "price": "39.00", "color": "#1f7a36"},
    ],
    "generate": [
        {
            "section": stand,
            "rows": rows,
            "first_row": first,
            "seats_per_row": 25,
            "category": code,
            "origin": {"x": x, "y": y + first - 1},
        }
        for stand, x, y in (
            ("West", 0, 0),
            ("North", 28, 0),
            ("East", 56, 0),
            ("South", 84, 0),
        )
        for code, first, rows in (("P1", 1, 10), ("P2", 11, 20), ("P3", 31, 20))
    ],
}
DEMO_SEATMAP_SEATS = 4 * 50 * 25
# The on-sale starts a few minutes after the demo loads, so a newcomer sees
# the pre-queue, its countdown and the draw before admission begins.
DEMO_ONSALE_DELAY_MINUTES = 5


class Command(BaseCommand):
    help = "Create the demo organizer, fan and staff accounts if they are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        organization = usermgmt_services.organization_get_or_create(
            name=DEMO_ORGANIZATION
        )
        accounts = [
            ("fan@demo.onsale.test", User.Role.FAN, None),
            ("organizer@demo.onsale.test", User.Role.ORGANIZER, organization),
            ("staff@demo.onsale.test", User.Role.STAFF, None),
        ]
        for email, role, org in accounts:
            if User.objects.filter(email=email).exists():
                continue
            user = usermgmt_services.user_create(
                email=email, password=DEMO_PASSWORD, role=role, organization=org
            )
            if role == User.Role.STAFF:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            self.stdout.write(f"created demo {role} {email}")
        self._demo_event(organization)

    def _demo_event(self, organization: Any) -> None:
        # Seat selection: one published event with a seat map, once.
        from datetime import timedelta

        from django.db import transaction
        from django.utils import timezone

        from onsale.events import services as event_services
        from onsale.events.models import Event
        from onsale.seatselection.seatmaps.write import seatmap_replace

        if Event.objects.filter(name=DEMO_EVENT).exists():
            return
        onsale_at = timezone.now().replace(second=0, microsecond=0) + timedelta(
            minutes=DEMO_ONSALE_DELAY_MINUTES
        )
        # A map can only be loaded before the on-sale starts: load it into a
        # draft, then publish (one transaction: all or nothing).
        with transaction.atomic():
            event = event_services.event_create(
                organization=organization,
                name=DEMO_EVENT,
                venue_name="Demo Arena",
                onsale_at=onsale_at,
                starts_at=onsale_at + timedelta(days=30),
            )
            seatmap_replace(event=event, data=DEMO_SEATMAP)
            event_services.event_update(event=event, status=Event.Status.PUBLISHED)
        self.stdout.write(
            f"created demo event {event.pk} with {DEMO_SEATMAP_SEATS} seats"
        )
