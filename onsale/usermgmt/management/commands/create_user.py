"""create_user EMAIL --password P --role fan|organizer|staff [--organization NAME]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onsale.platform.exceptions import DomainError
from onsale.usermgmt import services
from onsale.usermgmt.models import User


class Command(BaseCommand):
    help = "Create one account (fan, organizer or staff)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=User.Role.values, default=User.Role.FAN)
        parser.add_argument("--organization", help="organization name (organizers)")
        parser.add_argument("--name", default="", help="full name")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing if the email exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if (
            options["if_missing"]
            and User.objects.filter(email=options["email"].lower()).exists()
        ):
            self.stdout.write(f"{options['email']} exists; left as it is")
            return
        organization = None
        if options["organization"]:
            organization = services.organization_get_or_create(
                name=options["organization"]
            )
        try:
            user = services.user_create(
                email=options["email"],
                password=options["password"],
                role=options["role"],
                organization=organization,
                full_name=options["name"],
            )
        except DomainError as exc:
            detail = "; ".join(exc.extra.get("reasons", [])) or exc.message
            raise CommandError(f"{exc.code}: {detail}") from exc
        self.stdout.write(f"created {user.role} {user.email} (id {user.pk})")
