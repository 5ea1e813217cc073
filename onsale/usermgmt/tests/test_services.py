"""Tests of usermgmt/services.py's account services."""

from __future__ import annotations

from typing import Any

import pytest
from knox.models import AuthToken

from onsale.platform.redis import redis_client
from onsale.testutils.factories import OrganizationFactory, UserFactory
from onsale.usermgmt.exceptions import (
    EmailTaken,
    InvalidEmail,
    OrganizationRequired,
    WeakPassword,
)
from onsale.usermgmt.models import Organization, User
from onsale.usermgmt.selectors import (
    ACCOUNT_TOMBSTONE,
    account_cache_key,
    account_session_prime,
)
from onsale.usermgmt.services import (
    account_cache_invalidate,
    api_token_create,
    api_token_revoke,
    organization_get_or_create,
    user_create,
    users_bulk_create,
)

PASSWORD = "correct-horse-battery-staple"


@pytest.mark.django_db
def test_organization_get_or_create_creates_once(db: Any) -> None:
    # When the same name is asked twice (once with spaces)
    first = organization_get_or_create(name="Live Nation")
    second = organization_get_or_create(name="  Live Nation ")

    # Then one organization
    assert first.pk == second.pk
    assert Organization.objects.filter(name="Live Nation").count() == 1


@pytest.mark.django_db
def test_user_create_normalises_and_hashes(db: Any) -> None:
    # Given an organization
    organization = OrganizationFactory()

    # When an organizer is created
    user = user_create(
        email="  Boss@Example.TEST ",
        password=PASSWORD,
        role=User.Role.ORGANIZER,
        organization=organization,
        full_name=" Ada ",
    )

    # Then the email is normalised and the password hashed
    stored = User.objects.get(pk=user.pk)
    assert stored.email == "boss@example.test"
    assert (stored.role, stored.organization_id) == ("organizer", organization.pk)
    assert (stored.full_name, stored.is_staff) == ("Ada", False)
    assert stored.password != PASSWORD and stored.check_password(PASSWORD)


@pytest.mark.django_db
def test_user_create_refusals_create_nothing(db: Any) -> None:
    # Given an existing fan
    UserFactory(email="taken@example.test")

    # When / then: each refusal raises its error
    with pytest.raises(EmailTaken):
        user_create(email="TAKEN@example.test", password=PASSWORD)
    with pytest.raises(InvalidEmail):
        user_create(email="not-an-email", password=PASSWORD)
    with pytest.raises(WeakPassword):
        user_create(email="new@example.test", password="123")
    with pytest.raises(OrganizationRequired):
        user_create(
            email="new@example.test", password=PASSWORD, role=User.Role.ORGANIZER
        )

    # and no account was added
    assert list(User.objects.values_list("email", flat=True)) == ["taken@example.test"]


@pytest.mark.django_db
def test_users_bulk_create_skips_existing_emails(db: Any) -> None:
    # Given one of the load-test fans already there
    UserFactory(email="load1@example.test")

    # When three are asked for
    created = users_bulk_create(count=3, prefix="load", password=PASSWORD)

    # Then the two missing ones are created, fans with the shared password
    assert created == 2
    fans = User.objects.filter(email__startswith="load").order_by("email")
    assert [fan.email for fan in fans] == [
        "load0@example.test",
        "load1@example.test",
        "load2@example.test",
    ]
    added = User.objects.get(email="load2@example.test")
    assert added.role == User.Role.FAN and added.check_password(PASSWORD)


@pytest.mark.django_db
def test_account_cache_invalidate_leaves_a_tombstone(db: Any) -> None:
    # Given a fan whose session check is cached
    fan = UserFactory()
    redis_client().delete(account_cache_key(fan.pk))
    account_session_prime(user=fan)

    # When
    account_cache_invalidate(user_id=fan.pk)

    # Then the entry is a short-lived tombstone
    key = account_cache_key(fan.pk)
    assert redis_client().get(key) == ACCOUNT_TOMBSTONE
    assert redis_client().ttl(key) > 0


@pytest.mark.django_db
def test_api_token_revoke_deletes_only_that_token(db: Any) -> None:
    # Given a fan with two API tokens
    fan = UserFactory()
    api_token_create(user=fan)
    api_token_create(user=fan)
    first, second = AuthToken.objects.filter(user=fan)

    # When one is revoked
    api_token_revoke(token=first)

    # Then the other still stands
    assert [token.pk for token in AuthToken.objects.filter(user=fan)] == [second.pk]
