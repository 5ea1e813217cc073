"""platform/db.py on real MariaDB: the atomic tripwire, pk-ordered row locks,
and a lock wait that ends as a 409 with Retry-After."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError, connection, connections, transaction

from onsale.platform.db import (
    TransactionRequired,
    is_lock_wait_error,
    locked,
    require_atomic,
)
from onsale.platform.exceptions import exception_handler


def test_require_atomic_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(TransactionRequired):
        require_atomic()


@pytest.mark.django_db
def test_require_atomic_passes_inside_a_transaction() -> None:
    with transaction.atomic():
        require_atomic()


def test_locked_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(TransactionRequired):
        locked(Group.objects.all())


@pytest.mark.django_db
def test_locked_selects_for_update_in_primary_key_order() -> None:
    # Given rows created out of name order
    second = Group.objects.create(name="b")
    first = Group.objects.create(name="a")
    with transaction.atomic():
        # When they are locked through a queryset ordered by name
        queryset = locked(Group.objects.order_by("name"))
        sql = str(queryset.query)
        rows = list(queryset)
    # Then the lock is FOR UPDATE and the order is the primary key's
    assert sql.endswith("FOR UPDATE")
    assert [row.pk for row in rows] == [second.pk, first.pk]


def test_is_lock_wait_error_knows_the_two_mysql_codes() -> None:
    assert is_lock_wait_error(OperationalError(1205, "Lock wait timeout exceeded"))
    assert is_lock_wait_error(OperationalError(3572, "NOWAIT is set"))
    assert not is_lock_wait_error(OperationalError(2006, "MySQL server has gone away"))
    assert not is_lock_wait_error(ValueError(1205))


@pytest.mark.django_db(transaction=True)
def test_a_lock_held_elsewhere_ends_as_409_with_retry_after() -> None:
    # Given a row another connection holds locked
    group = Group.objects.create(name="contended")
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(locked(Group.objects.filter(pk=group.pk)))
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
        # When this connection tries to lock it too
        with pytest.raises(OperationalError) as raised, transaction.atomic():
            list(locked(Group.objects.filter(pk=group.pk)))
    finally:
        release.set()
        holder.join(timeout=30)
    # Then MySQL gives up, and the API answers 409 lock_timeout, Retry-After 1
    assert is_lock_wait_error(raised.value)
    response = exception_handler(raised.value, {})
    assert response.status_code == 409
    assert response.data["code"] == "lock_timeout"
    assert response["Retry-After"] == "1"


@pytest.mark.django_db
def test_connections_carry_the_short_lock_wait_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.innodb_lock_wait_timeout")
        (seconds,) = cursor.fetchone()
    assert seconds == 5
