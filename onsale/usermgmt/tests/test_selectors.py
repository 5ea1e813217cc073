"""Tests of usermgmt/selectors.py's reads that the API tests do not name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from onsale.platform.exceptions import NotFound
from onsale.platform.redis import redis_client
from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.usermgmt.models import User
from onsale.usermgmt.selectors import (
    account_cache_key,
    account_session_get,
    account_session_prime,
    organization_get_for_viewer,
    organization_member_list,
)


@pytest.mark.django_db
def test_organization_get_for_viewer_own_organizer_and_staff(db: Any) -> None:
    # Given an organizer and a staff member
    organizer = OrganizerFactory()
    staff = UserFactory(role=User.Role.STAFF, is_staff=True)
    organization_id = organizer.organization_id

    # When / then: both see the organization
    assert organization_get_for_viewer(
        organization_id=organization_id, viewer=organizer
    ) == (organizer.organization)
    assert (
        organization_get_for_viewer(organization_id=organization_id, viewer=staff).pk
        == organization_id
    )


@pytest.mark.django_db
def test_organization_get_for_viewer_hides_it_from_others(db: Any) -> None:
    # Given an organization, an organizer of another one, and a fan
    organization_id = OrganizerFactory().organization_id

    # When / then: both get NotFound, as for an id that does not exist
    for viewer in (OrganizerFactory(), UserFactory()):
        with pytest.raises(NotFound):
            organization_get_for_viewer(organization_id=organization_id, viewer=viewer)
    with pytest.raises(NotFound):
        organization_get_for_viewer(
            organization_id=organization_id + 1000, viewer=OrganizerFactory()
        )


@pytest.mark.django_db
def test_organization_member_list_by_email(db: Any) -> None:
    # Given an organization with two organizers, and an organizer elsewhere
    second = OrganizerFactory(email="zed@example.test")
    first = OrganizerFactory(email="abe@example.test", organization=second.organization)
    OrganizerFactory()

    # When / then: its members only, by email
    members = organization_member_list(organization=second.organization)
    assert [member.pk for member in members] == [first.pk, second.pk]


@pytest.mark.django_db
def test_account_session_prime_caches_the_check(
    db: Any, django_assert_num_queries: Any
) -> None:
    # Given a fan just signed in, with no cached entry (creation left a tombstone)
    fan = UserFactory()
    redis_client().delete(account_cache_key(fan.pk))

    # When
    account_session_prime(user=fan)

    # Then the entry is there, without the password hash, and the next check
    # needs no SQL
    raw = redis_client().get(account_cache_key(fan.pk))
    assert raw is not None and fan.password not in raw
    assert json.loads(raw)[1][0] == fan.get_session_auth_hash()
    with django_assert_num_queries(0):
        account = account_session_get(user_id=fan.pk)
    assert account is not None and account.user.pk == fan.pk
