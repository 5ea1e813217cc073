"""Row locks in MySQL: one way to take them (pretix `locking.py`, Saleor
`lock_objects.py`).

`locked()` locks rows in primary-key order, so two transactions that lock an
overlapping set never wait on each other in a circle. The connection's
`innodb_lock_wait_timeout` (DB_LOCK_WAIT_TIMEOUT_SECONDS, set in the MySQL
init_command) keeps a wait short; the exception handler turns the error that
ends it into a 409 with Retry-After (see `is_lock_wait_error`).
"""

from __future__ import annotations

from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# 1205: lock wait timeout exceeded; 3572: NOWAIT and the row is locked (MySQL 8).
LOCK_WAIT_ERROR_CODES = frozenset({1205, 3572})


class TransactionRequired(RuntimeError):
    """A programming error: code that must run inside `transaction.atomic()`
    was called outside one (its locks or writes would not hold together)."""


def require_atomic(using: str = DEFAULT_DB_ALIAS) -> None:
    """Raise TransactionRequired unless the caller is inside
    `transaction.atomic()` on the `using` connection."""
    if not connections[using].in_atomic_block:
        raise TransactionRequired("This must run inside transaction.atomic().")


def locked(queryset: QuerySet[M]) -> QuerySet[M]:
    """`queryset` as SELECT ... FOR UPDATE in primary-key order; the locks
    are taken when it is evaluated and held until the transaction ends.
    Outside `transaction.atomic()` it raises TransactionRequired."""
    require_atomic(queryset.db)
    return queryset.order_by("pk").select_for_update()


def is_lock_wait_error(exc: BaseException) -> bool:
    """Whether `exc` is MySQL giving up on a row lock someone else holds: a
    conflict with another request (try again shortly), not an outage."""
    return (
        isinstance(exc, DatabaseError)
        and bool(exc.args)
        and exc.args[0] in LOCK_WAIT_ERROR_CODES
    )
