from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from onsale.events.models import Event
from onsale.usermgmt.tests.factories import OrganizationFactory


class EventFactory(factory.django.DjangoModelFactory):
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
