"""Writes and rules for accounts: creating users, signing in and out."""

from __future__ import annotations

import logging
from datetime import datetime

import redis
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from onsale.platform.ratelimit import ratelimit_hit, ratelimit_refund, ratelimit_reset
from onsale.platform.redis import redis_client
from onsale.usermgmt.exceptions import (
    EmailTaken,
    InvalidCredentials,
    InvalidEmail,
    LoginThrottled,
    OrganizationRequired,
    WeakPassword,
)
from onsale.usermgmt.models import Organization, User, normalize_email
from onsale.usermgmt.selectors import (
    ACCOUNT_TOMBSTONE,
    account_cache_key,
    account_session_prime,
)

logger = logging.getLogger(__name__)


def organization_get_or_create(*, name: str) -> Organization:
    """The organization called `name`, created on first use."""
    organization, _ = Organization.objects.get_or_create(name=name.strip())
    return organization


def user_create(
    *,
    email: str,
    password: str,
    role: str = User.Role.FAN,
    organization: Organization | None = None,
    full_name: str = "",
) -> User:
    """Create an account.

    The email is normalised (trimmed, lowercased) and must be unique; the
    password must pass Django's validators. Organizers need an organization;
    staff get admin-site access. Two concurrent sign-ups with one email: the
    database's UNIQUE constraint lets one win, the other gets `EmailTaken`.
    """
    normalized = normalize_email(email)
    try:
        validate_email(normalized)
    except ValidationError:
        raise InvalidEmail(extra={"field": "email"}) from None
    if role not in User.Role.values:
        raise InvalidEmail(  # never reached from the API: the serializer checks
            "Unknown role.", code="invalid_role", extra={"field": "role"}
        )
    if role == User.Role.ORGANIZER and organization is None:
        raise OrganizationRequired(extra={"field": "organization"})
    user = User(
        email=normalized,
        role=role,
        organization=organization,
        full_name=full_name.strip(),
        is_staff=role == User.Role.STAFF,
    )
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise WeakPassword(
            extra={"field": "password", "reasons": list(exc.messages)}
        ) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        if User.objects.filter(email=normalized).exists():
            raise EmailTaken(extra={"field": "email"}) from None
        raise
    return user


def users_bulk_create(
    *, count: int, prefix: str, password: str, domain: str = "example.test"
) -> int:
    """Create `count` fans named `<prefix><n>@<domain>` for load tests.

    The password is hashed once and shared, and rows go in with bulk inserts,
    so thousands of accounts take about a second. Existing emails are skipped;
    returns how many were created.
    """
    hashed = make_password(password)
    existing = set(
        User.objects.filter(email__startswith=f"{prefix}").values_list(
            "email", flat=True
        )
    )
    batch: list[User] = []
    created = 0
    for number in range(count):
        email = f"{prefix}{number}@{domain}".lower()
        if email in existing:
            continue
        batch.append(User(email=email, password=hashed, role=User.Role.FAN))
        if len(batch) >= 2000:
            User.objects.bulk_create(batch, batch_size=2000)
            created += len(batch)
            batch = []
    if batch:
        User.objects.bulk_create(batch, batch_size=2000)
        created += len(batch)
    return created


def _login_account_key(email: str) -> str:
    return normalize_email(email)


# The two sign-in limits: failures per client address (whatever the accounts)
# and failures per account from one address. The second is per address too, so
# a stranger's wrong guesses lock out the stranger's address, never the owner.
_LOGIN_SCOPE_ADDRESS = "login-ip"
_LOGIN_SCOPE_ACCOUNT = "login-account-ip"


def user_authenticate(*, email: str, password: str, ip: str) -> User:
    """Check a sign-in attempt and return the user.

    Only failures count, so a thousand fans behind one address (a carrier's
    NAT, a campus, the venue's Wi-Fi) can all sign in. Two limits kept in
    Redis: failed attempts per client address (LOGIN_MAX_ATTEMPTS_PER_IP) and
    per account from that address (LOGIN_MAX_ATTEMPTS_PER_ACCOUNT), each per
    LOGIN_ATTEMPT_WINDOW_SECONDS. Every attempt is counted before the password
    is checked, so parallel guesses cannot slip past the count; a sign-in with
    the right password then gives its hit back and clears the account's count
    from that address. Over either limit: `LoginThrottled` with the seconds to
    wait. A wrong password and an unknown email get the same
    `InvalidCredentials`.
    """
    account = _login_account_key(email)
    account_at_address = f"{account}|{ip}"
    window = settings.LOGIN_ATTEMPT_WINDOW_SECONDS
    by_ip = ratelimit_hit(
        scope=_LOGIN_SCOPE_ADDRESS,
        identity=ip,
        limit=settings.LOGIN_MAX_ATTEMPTS_PER_IP,
        window_seconds=window,
    )
    by_account = ratelimit_hit(
        scope=_LOGIN_SCOPE_ACCOUNT,
        identity=account_at_address,
        limit=settings.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
        window_seconds=window,
    )
    refused = [result for result in (by_ip, by_account) if not result.allowed]
    if refused:
        retry_after = max(result.retry_after_seconds for result in refused)
        raise LoginThrottled(
            retry_after=retry_after, extra={"retry_after_seconds": retry_after}
        )
    user = authenticate(username=account, password=password)
    if user is None or not isinstance(user, User):
        raise InvalidCredentials()
    ratelimit_refund(scope=_LOGIN_SCOPE_ADDRESS, identity=ip)
    ratelimit_reset(scope=_LOGIN_SCOPE_ACCOUNT, identity=account_at_address)
    # The queue's first request after a sign-in then needs no MySQL read.
    account_session_prime(user=user)
    return user


# How long the tombstone of a changed account stays: longer than any read of
# the old row can take to reach Redis (see selectors.account_session_get).
ACCOUNT_TOMBSTONE_SECONDS = 10


def account_cache_invalidate(*, user_id: int) -> None:
    """Replace the account's cached session check with a tombstone, now and
    again when the transaction commits (a reader that read the row before the
    commit cannot put the old one back). Called on every save and delete of a
    user. If Redis cannot be reached the change still stands; the old entry
    then expires after USERMGMT_ACCOUNT_CACHE_SECONDS (logged)."""

    def tombstone() -> None:
        try:
            redis_client().set(
                account_cache_key(user_id),
                ACCOUNT_TOMBSTONE,
                ex=ACCOUNT_TOMBSTONE_SECONDS,
            )
        except redis.RedisError:
            logger.exception(
                "account cache: could not replace the entry of user %s", user_id
            )

    tombstone()
    transaction.on_commit(tombstone)


def api_token_create(*, user: User) -> tuple[str, datetime | None]:
    """A new bearer token for API clients; only its hash is stored."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def api_token_revoke(*, token: AuthToken) -> None:
    """Revoke one bearer token (logout from that client)."""
    token.delete()
