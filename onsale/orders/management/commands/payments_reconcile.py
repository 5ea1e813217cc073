"""Compare the payment provider's ledger (the fake's) with the orders and seat sales."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onsale.orders.ledger_reconcile import fake_ledger_reconcile


class Command(BaseCommand):
    help = (
        "Reconcile the fake provider's ledger with the orders: every charge has "
        "an order, paid orders have one charge and their seats, closed ones none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-pending",
            action="store_true",
            help="do not report orders that are still pending",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = fake_ledger_reconcile(allow_pending=options["allow_pending"])
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} mismatches")
        self.stdout.write("ledger and orders agree")
