from __future__ import annotations

import factory

from onsale.usermgmt.models import Organization, User


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory):
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
    email = factory.Sequence(lambda n: f"organizer{n}@example.test")
    role = User.Role.ORGANIZER
    organization = factory.SubFactory(OrganizationFactory)
