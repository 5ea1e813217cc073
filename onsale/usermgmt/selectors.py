"""Reads about accounts and organizations."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import QuerySet

from onsale.platform.exceptions import NotFound
from onsale.platform.observability import metrics
from onsale.platform.redis import redis_client, redis_key
from onsale.usermgmt.models import Organization, User


def organization_get_for_viewer(*, organization_id: int, viewer: User) -> Organization:
    """The organization, if `viewer` may see it: its own organizers and staff.

    Anyone else gets `NotFound`, exactly as for an id that does not exist, so
    ids cannot be probed.
    """
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound()
    if viewer.is_platform_staff or (
        viewer.is_organizer and viewer.organization_id == organization.pk
    ):
        return organization
    raise NotFound()


def organization_member_list(*, organization: Organization) -> QuerySet[User]:
    return organization.members.order_by("email")


# --- the account check of session authentication -----------------------------
#
# Every request signed in by session must find out whether the account still
# exists, is active, and still has the password the session was signed in
# with. The queue's hot endpoints (join, me, done) ask Redis for that instead
# of MySQL: an entry per account holds the few fields they need and the
# session hashes (HMACs of the password hash, never the hash itself). It is
# filled on first use and by each sign-in, and any save or delete of the
# account replaces it with a short-lived tombstone (see services), which also
# stops a reader that read the old row from putting it back (a bulk
# `QuerySet.update()` of users sends no signal: it would have to call
# `services.account_cache_invalidate` itself; onsale does none). The entry lives
# USERMGMT_ACCOUNT_CACHE_SECONDS; that is also how long a change could go
# unseen if Redis failed at the very moment of the change.

# The columns read on a miss, in the model's field order (Model.from_db
# expects that); `password` only to compute the session hashes.
_ACCOUNT_FIELDS = tuple(
    field.attname
    for field in User._meta.concrete_fields
    if field.attname
    in {"id", "password", "is_active", "role", "organization_id", "is_staff"}
)
_ACCOUNT_USER_FIELDS = [name for name in _ACCOUNT_FIELDS if name != "password"]
_ACCOUNT_MODEL_FIELDS = {
    field.attname: field
    for field in User._meta.concrete_fields
    if field.attname in _ACCOUNT_USER_FIELDS
}
ACCOUNT_TOMBSTONE = "-"


@functools.cache
def _account_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(field.column)
        for field in User._meta.concrete_fields
        if field.attname in _ACCOUNT_FIELDS
    )
    return (
        f"SELECT {columns} FROM {quote(User._meta.db_table)} "  # noqa: S608 (names from the model)
        f"WHERE {quote(User._meta.pk.column)} = %s"
    )


@functools.cache
def _secrets_tag(secret: str, fallbacks: tuple[str, ...]) -> str:
    """Short tag of the signing secrets: the session hashes depend on them, so
    a SECRET_KEY rotation reads fresh entries instead of stale hashes."""
    digest = hashlib.sha256("\0".join((secret, *fallbacks)).encode()).hexdigest()
    return digest[:8]


def account_cache_key(user_id: int) -> str:
    tag = _secrets_tag(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    return redis_key("acct", user_id, tag)


@dataclass(frozen=True)
class SessionAccount:
    """The account as session authentication needs it: a User with only the
    fields below loaded (any other is read from MySQL on first use, as for a
    deferred field) and the session hashes that still sign the fan in."""

    user: User
    session_hashes: tuple[str, ...]


def _account_entry(user: User) -> tuple[list[Any], tuple[str, ...]]:
    """The cached fields and session hashes of `user` (password loaded)."""
    hashes = (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    # to_python: a raw row has MySQL's 0/1 where the model has booleans.
    fields = [
        _ACCOUNT_MODEL_FIELDS[name].to_python(getattr(user, name))
        for name in _ACCOUNT_USER_FIELDS
    ]
    return fields, hashes


def _account_store(user_id: int, fields: list[Any], hashes: Sequence[str]) -> None:
    seconds = settings.USERMGMT_ACCOUNT_CACHE_SECONDS
    if seconds > 0:
        # NX: a tombstone written since the row was read keeps it out.
        redis_client().set(
            account_cache_key(user_id),
            json.dumps([fields, list(hashes)]),
            ex=seconds,
            nx=True,
        )


def account_session_prime(*, user: User) -> None:
    """Cache the session check of `user`, just read in full from MySQL (a
    sign-in), so the next request of that fan needs no read of its own."""
    fields, hashes = _account_entry(user)
    _account_store(user.pk, fields, hashes)


def account_session_get(*, user_id: int) -> SessionAccount | None:
    """The account `user_id` for session authentication, or None if it does
    not exist. One Redis read when cached; on a miss one narrow SQL read, and
    the entry is written unless a tombstone (a change in the last seconds) is
    there. USERMGMT_ACCOUNT_CACHE_SECONDS = 0 reads MySQL every time."""
    if settings.USERMGMT_ACCOUNT_CACHE_SECONDS > 0:
        raw = redis_client().get(account_cache_key(user_id))
        if raw is not None and raw != ACCOUNT_TOMBSTONE:
            metrics.ACCOUNT_CACHE_HIT.inc()
            fields, hashes = json.loads(raw)
            return SessionAccount(
                User.from_db(DEFAULT_DB_ALIAS, _ACCOUNT_USER_FIELDS, fields),
                tuple(hashes),
            )
        metrics.ACCOUNT_CACHE_MISS.inc()
    with connection.cursor() as cursor:
        cursor.execute(_account_sql(), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    fields, hashes = _account_entry(
        User.from_db(DEFAULT_DB_ALIAS, list(_ACCOUNT_FIELDS), list(row))
    )
    _account_store(user_id, fields, hashes)
    return SessionAccount(
        User.from_db(DEFAULT_DB_ALIAS, _ACCOUNT_USER_FIELDS, fields), hashes
    )
