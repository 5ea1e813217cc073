"""Management commands: create_user and the bulk create_users."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from onsale.usermgmt.models import Organization, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def test_create_user_makes_an_organizer_in_an_organization() -> None:
    call_command(
        "create_user",
        "boss@promo.test",
        "--password",
        PASSWORD,
        "--role",
        "organizer",
        "--organization",
        "Promo Ltd",
    )
    user = User.objects.get(email="boss@promo.test")
    assert user.role == User.Role.ORGANIZER
    assert user.organization == Organization.objects.get(name="Promo Ltd")
    assert user.check_password(PASSWORD)


def test_create_user_refuses_an_organizer_without_organization() -> None:
    with pytest.raises(CommandError, match="organization_required"):
        call_command(
            "create_user",
            "boss@promo.test",
            "--password",
            PASSWORD,
            "--role",
            "organizer",
        )
    assert User.objects.count() == 0


def test_create_user_staff_gets_admin_access() -> None:
    call_command(
        "create_user", "ops@onsale.test", "--password", PASSWORD, "--role", "staff"
    )
    assert User.objects.get(email="ops@onsale.test").is_staff


def test_create_users_bulk_is_fast_and_idempotent() -> None:
    call_command("create_users", "--count", "3000", "--prefix", "load")
    assert User.objects.filter(email__startswith="load").count() == 3000
    call_command("create_users", "--count", "3100", "--prefix", "load")
    assert User.objects.filter(email__startswith="load").count() == 3100
    sample = User.objects.get(email="load2999@example.test")
    assert sample.role == User.Role.FAN
    assert sample.check_password("loadtest-password-1")


def test_demo_load_is_idempotent() -> None:
    call_command("demo_load")
    call_command("demo_load")
    assert User.objects.filter(email__endswith="@demo.onsale.test").count() == 3
    organizer = User.objects.get(email="organizer@demo.onsale.test")
    assert organizer.organization is not None
    # One published demo event: 5,000 seats in three categories, on sale soon.
    from datetime import timedelta

    from django.utils import timezone

    from onsale.events.models import Event
    from onsale.seatselection.models import PriceCategory, Seat

    event = Event.objects.get(name="Demo Arena Night")
    assert event.status == Event.Status.PUBLISHED
    assert Seat.objects.filter(event=event).count() == 5000
    assert PriceCategory.objects.filter(event=event).count() == 3
    assert timezone.now() < event.onsale_at < timezone.now() + timedelta(minutes=6)
