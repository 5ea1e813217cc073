"""factory_boy factories of the models most tests start from: organizations,
fans and organizers (usermgmt), and events (events)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from onsale.events.models import Event
from onsale.usermgmt.models import Organization, User


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    """An organization with a unique name (reused when the name is given)."""

    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A fan with a unique email and the tests' known password."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"fan{n}@example.test")
    role = User.Role.FAN
    password = factory.PostGenerationMethodCall(
        "set_password", "correct-horse-battery-staple"
    )

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class OrganizerFactory(UserFactory):
    """An organizer of a new organization."""

    email = factory.Sequence(lambda n: f"organizer{n}@example.test")
    role = User.Role.ORGANIZER
    organization = factory.SubFactory(OrganizationFactory)


class EventFactory(factory.django.DjangoModelFactory[Event]):
    """A published event of a new organization, on sale in five minutes."""

    class Meta:
        model = Event

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Concert {n}")
    venue_name = "Arena"
    onsale_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))
    starts_at = factory.LazyAttribute(
        lambda event: event.onsale_at + timedelta(days=30)
    )
    currency = "EUR"
    status = Event.Status.PUBLISHED
