"""The Redis cache of session checks (selectors.account_session_get)."""

from __future__ import annotations

import logging

import pytest
import redis

from onsale.platform.redis import redis_client
from onsale.usermgmt import selectors, services
from onsale.usermgmt.models import User


def _entry(user_id: int) -> str | None:
    return redis_client().get(selectors.account_cache_key(user_id))


@pytest.fixture(autouse=True)
def _no_tombstone_from_creation(fan):
    # Creating the fan saved it: its tombstone would keep the cache out for
    # ten seconds, as it does for any account changed that recently.
    redis_client().delete(selectors.account_cache_key(fan.pk))


@pytest.mark.django_db
def test_second_read_comes_from_redis_without_sql(fan, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = selectors.account_session_get(user_id=fan.pk)
    with django_assert_num_queries(0):
        second = selectors.account_session_get(user_id=fan.pk)
    for account in (first, second):
        assert account is not None
        assert (account.user.pk, account.user.role, account.user.is_active) == (
            fan.pk,
            "fan",
            True,
        )
        assert account.session_hashes[0] == fan.get_session_auth_hash()
    # Fields not cached are read on first use, as deferred fields.
    with django_assert_num_queries(1):
        assert second.user.email == fan.email


@pytest.mark.django_db
def test_entry_holds_no_password_hash_and_expires(fan, settings):
    selectors.account_session_get(user_id=fan.pk)
    key = selectors.account_cache_key(fan.pk)
    raw = redis_client().get(key)
    assert raw is not None and fan.password not in raw
    ttl = redis_client().ttl(key)
    assert 0 < ttl <= settings.USERMGMT_ACCOUNT_CACHE_SECONDS


@pytest.mark.django_db
def test_any_save_replaces_the_entry_with_a_tombstone(fan, django_assert_num_queries):
    selectors.account_session_get(user_id=fan.pk)
    fan.is_active = False
    fan.save()
    assert _entry(fan.pk) == selectors.ACCOUNT_TOMBSTONE
    with django_assert_num_queries(1):
        account = selectors.account_session_get(user_id=fan.pk)
    assert account is not None and account.user.is_active is False
    # While the tombstone lives, reads go to MySQL and write nothing.
    assert _entry(fan.pk) == selectors.ACCOUNT_TOMBSTONE


@pytest.mark.django_db
def test_a_reader_that_read_the_old_row_cannot_put_it_back(fan):
    old_fields, old_hashes = selectors._account_entry(fan)
    fan.set_password("another-long-password-77")
    fan.save()
    # The slow reader arrives after the change was committed.
    selectors._account_store(fan.pk, old_fields, old_hashes)
    assert _entry(fan.pk) == selectors.ACCOUNT_TOMBSTONE
    redis_client().delete(selectors.account_cache_key(fan.pk))
    account = selectors.account_session_get(user_id=fan.pk)
    assert account is not None
    assert account.session_hashes[0] == fan.get_session_auth_hash()
    assert old_hashes[0] not in account.session_hashes


@pytest.mark.django_db
def test_saving_only_last_login_keeps_the_entry(fan):
    selectors.account_session_get(user_id=fan.pk)
    before = _entry(fan.pk)
    fan.save(update_fields=["last_login"])
    assert _entry(fan.pk) == before != selectors.ACCOUNT_TOMBSTONE


@pytest.mark.django_db
def test_deleted_account_is_gone(fan):
    selectors.account_session_get(user_id=fan.pk)
    user_id = fan.pk
    fan.delete()
    assert selectors.account_session_get(user_id=user_id) is None
    assert selectors.account_session_get(user_id=10**9) is None


@pytest.mark.django_db
def test_sign_in_primes_the_entry(fan, password, django_assert_num_queries):
    services.user_authenticate(email=fan.email, password=password, ip="192.0.2.7")
    with django_assert_num_queries(0):
        account = selectors.account_session_get(user_id=fan.pk)
    assert account is not None and account.user.pk == fan.pk


@pytest.mark.django_db
def test_turned_off_reads_mysql_every_time(fan, settings, django_assert_num_queries):
    settings.USERMGMT_ACCOUNT_CACHE_SECONDS = 0
    for _ in range(2):
        with django_assert_num_queries(1):
            assert selectors.account_session_get(user_id=fan.pk) is not None
    assert _entry(fan.pk) is None


@pytest.mark.django_db
def test_redis_down_at_a_change_is_logged_and_the_change_stands(
    fan, monkeypatch, caplog
):
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(services, "redis_client", lambda: unreachable)
    fan.is_active = False
    with caplog.at_level(logging.ERROR, logger="onsale.usermgmt.services"):
        fan.save()
    assert User.objects.get(pk=fan.pk).is_active is False
    assert "could not replace the entry" in caplog.text
