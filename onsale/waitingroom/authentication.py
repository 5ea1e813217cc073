"""Session authentication for the queue's hot endpoints (join, me, done).

It makes exactly the checks Django's session authentication makes (the session
names a user and a configured ModelBackend, the account exists and is active,
the session's auth hash matches the current password hash or a fallback
secret's, and DRF's CSRF check), but reads the account with one narrow SQL
statement instead of a full ORM `get()`: at an on-sale every fan's join pays
for that read, and the ORM's query building costs four times the query itself.
The user object is built with `Model.from_db`, so any field not read here is
loaded on first use as for a deferred field. Every other endpoint keeps the
usual authentication.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db import DEFAULT_DB_ALIAS, connection
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from onsale.usermgmt.models import User

# The columns read, in the model's field order (Model.from_db expects that).
_FIELDS = tuple(
    field.attname
    for field in User._meta.concrete_fields
    if field.attname
    in {"id", "password", "is_active", "role", "organization_id", "is_staff"}
)


@functools.cache
def _select_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(field.column)
        for field in User._meta.concrete_fields
        if field.attname in _FIELDS
    )
    return (
        f"SELECT {columns} FROM {quote(User._meta.db_table)} "  # noqa: S608 (names from the model)
        f"WHERE {quote(User._meta.pk.column)} = %s"
    )


@functools.cache
def _model_backend(path: str) -> bool:
    if path not in settings.AUTHENTICATION_BACKENDS:
        return False
    backend = import_string(path)
    return isinstance(backend, type) and issubclass(backend, ModelBackend)


class QueueSessionAuthentication(SessionAuthentication):
    """Django session authentication with a narrow account read (see above)."""

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        session = request._request.session
        raw_id = session.get(SESSION_KEY)
        if raw_id is None:
            return None
        backend = session.get(BACKEND_SESSION_KEY, "")
        if not _model_backend(backend):
            # Another backend: let Django's own path decide.
            return super().authenticate(request)
        try:
            user_id = int(raw_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            cursor.execute(_select_sql(), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = User.from_db(DEFAULT_DB_ALIAS, list(_FIELDS), list(row))
        if not user.is_active or not self._hash_matches(session, user):
            return None
        self.enforce_csrf(request)
        return (user, None)

    @staticmethod
    def _hash_matches(session: Any, user: User) -> bool:
        session_hash = session.get(HASH_SESSION_KEY)
        if not session_hash:
            return False
        if constant_time_compare(session_hash, user.get_session_auth_hash()):
            return True
        # A session signed before a SECRET_KEY rotation still counts, as in
        # Django; its hash is brought up to date by the next normal request.
        return any(
            constant_time_compare(session_hash, fallback)
            for fallback in user.get_session_auth_fallback_hash()
        )


class QueueSessionScheme(SessionScheme):
    """OpenAPI: the session cookie, as for Django's session authentication
    (its own name: drf-spectacular wants one class per scheme name)."""

    target_class = "onsale.waitingroom.authentication.QueueSessionAuthentication"
    name = "queueCookieAuth"
