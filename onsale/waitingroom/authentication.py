"""Session authentication for the queue's hot endpoints (join, me, done).

It makes exactly the checks Django's session authentication makes (the session
names a user and a configured ModelBackend, the account exists and is active,
the session's auth hash matches the current password hash or a fallback
secret's, and DRF's CSRF check), but takes the account from usermgmt's Redis
cache of session checks (`account_session_get`; one narrow SQL read on a
miss) instead of a full ORM `get()`: at an on-sale every fan's join pays for
that read. The user object has only a few fields loaded; any other is read on
first use as for a deferred field. Every other endpoint keeps the usual
authentication.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from onsale.usermgmt.models import User
from onsale.usermgmt.selectors import account_session_get


@functools.cache
def _model_backend(path: str) -> bool:
    if path not in settings.AUTHENTICATION_BACKENDS:
        return False
    backend = import_string(path)
    return isinstance(backend, type) and issubclass(backend, ModelBackend)


class QueueSessionAuthentication(SessionAuthentication):
    """Django session authentication with the account check from the Redis
    cache (see above)."""

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
        account = account_session_get(user_id=user_id)
        if account is None or not account.user.is_active:
            return None
        session_hash = session.get(HASH_SESSION_KEY)
        # The current hash, then those of SECRET_KEY_FALLBACKS: a session
        # signed before a key rotation still counts, as in Django; its hash is
        # brought up to date by the next normal request.
        if not session_hash or not any(
            constant_time_compare(session_hash, known)
            for known in account.session_hashes
        ):
            return None
        self.enforce_csrf(request)
        return (account.user, None)


class QueueSessionScheme(SessionScheme):
    """OpenAPI: the session cookie, as for Django's session authentication
    (its own name: drf-spectacular wants one class per scheme name)."""

    target_class = "onsale.waitingroom.authentication.QueueSessionAuthentication"
    name = "queueCookieAuth"
