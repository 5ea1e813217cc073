"""Load the demo accounts (and, as services appear, the demo event) once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from onsale.usermgmt import services as usermgmt_services
from onsale.usermgmt.models import User

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - published demo logins
DEMO_ORGANIZATION = "Demo Promotions"


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
