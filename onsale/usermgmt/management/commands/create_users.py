"""create_users --count N --prefix loadtest: bulk fans for load tests."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from onsale.usermgmt import services


class Command(BaseCommand):
    help = "Create N fans <prefix><n>@example.test sharing one password (bulk insert)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--prefix", default="loadtest")
        parser.add_argument("--password", default="loadtest-password-1")
        parser.add_argument("--domain", default="example.test")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        created = services.users_bulk_create(
            count=options["count"],
            prefix=options["prefix"],
            password=options["password"],
            domain=options["domain"],
        )
        elapsed = time.perf_counter() - started
        rate = created / elapsed if elapsed > 0 else 0.0
        self.stdout.write(f"created {created} users in {elapsed:.2f}s ({rate:.0f}/s)")
