"""Access tokens: what the waiting room gives an admitted fan, and the one
verifier seat selection and checkout use.

A token is a JWT signed with the current key (header `kid`), claims:
`iss`, `sub` = user id, `aud` = "event:<id>", `jti` = the session id, `iat`,
`exp` = the session's end. Verification needs no call to the waiting room
except one ZSCORE that says the session has not ended early.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from onsale.waitingroom import exceptions, scripts
from onsale.waitingroom.clock import local_now_seconds
from onsale.waitingroom.signing import keyring

logger = logging.getLogger(__name__)

ACCESS_TOKEN_HEADER = "X-Access-Token"  # noqa: S105 (a header name)


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    event_id: int
    session_id: str  # the JWT jti; the admitted shopping session
    issued_at: int  # epoch seconds
    expires_at: int  # epoch seconds (= session end)


def event_audience(event_id: int) -> str:
    return f"event:{event_id}"


def access_token_issue(*, claims: AccessClaims) -> str:
    """Sign `claims` with the current key. Ed25519 signatures are
    deterministic, so the same session always yields the same token (a fan who
    reloads gets their token again without a new session)."""
    key = keyring().current
    assert key.private_key is not None  # the current key is always private
    payload = {
        "iss": settings.WAITINGROOM_JWT_ISSUER,
        "sub": str(claims.user_id),
        "aud": event_audience(claims.event_id),
        "jti": claims.session_id,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
    }
    return jwt.encode(
        payload, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid}
    )


def _invalid(reason: str) -> exceptions.AccessTokenInvalid:
    # The reason helps a client developer; it says nothing about the keys.
    return exceptions.AccessTokenInvalid(extra={"reason": reason})


def access_token_verify(*, token: str, user_id: int, event_id: int) -> AccessClaims:
    """Signature (pinned alg, kid from the key set), aud == event, sub == user, exp (small
    leeway), and the session still active in Redis. Raises
    onsale.waitingroom.exceptions.AccessTokenInvalid (NotAuthenticated -> 401, code
    "access_token_invalid") or AccessSessionEnded (401, code "access_session_ended").

    The algorithm is the one pinned to the key named by `kid`; a header that
    names another (`none`, HS256 with the public key as the secret) is
    rejected before any signature check. Time claims are checked against the
    platform clock with `WAITINGROOM_JWT_LEEWAY_SECONDS` of leeway for clock
    skew between pods.
    """
    now = local_now_seconds()
    leeway = settings.WAITINGROOM_JWT_LEEWAY_SECONDS
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid("malformed") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _invalid("missing_kid")
    key = keyring().verification_key(kid=kid, now=now)
    if key is None:
        raise _invalid("unknown_kid")
    if header.get("alg") != key.algorithm:
        raise _invalid("algorithm")
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key.public_key,
            algorithms=[key.algorithm],
            audience=event_audience(event_id),
            issuer=settings.WAITINGROOM_JWT_ISSUER,
            options={
                "require": ["iss", "sub", "aud", "jti", "iat", "exp"],
                # Checked below against the platform clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidAudienceError:
        raise _invalid("wrong_event") from None
    except jwt.InvalidSignatureError:
        raise _invalid("signature") from None
    except jwt.PyJWTError:
        raise _invalid("claims") from None
    issued_at, expires_at = payload["iat"], payload["exp"]
    session_id = payload["jti"]
    if not (
        isinstance(issued_at, int)
        and isinstance(expires_at, int)
        and isinstance(session_id, str)
    ):
        raise _invalid("claims")
    if payload["sub"] != str(user_id):
        raise _invalid("wrong_user")
    if issued_at > now + leeway:
        raise _invalid("issued_in_future")
    if expires_at + leeway <= now:
        raise exceptions.AccessSessionEnded(extra={"reason": "expired"})
    session_end_ms = scripts.session_end_ms(event_id=event_id, session_id=session_id)
    if session_end_ms is None or session_end_ms + leeway * 1000 <= now * 1000:
        raise exceptions.AccessSessionEnded(extra={"reason": "ended"})
    return AccessClaims(
        user_id=user_id,
        event_id=event_id,
        session_id=session_id,
        issued_at=issued_at,
        expires_at=expires_at,
    )


class AccessTokenRequired(BasePermission):
    """DRF permission for views with an `event_id` URL kwarg: reads header X-Access-Token,
    verifies it for request.user and that event, stores the claims on request.access_claims.
    Missing token -> 401 code "access_token_required".

    An anonymous request is refused the normal way (401 not_authenticated):
    the token is bound to an account, so the account must be known first.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        token = request.headers.get(ACCESS_TOKEN_HEADER, "")
        if not token:
            raise exceptions.AccessTokenMissing()
        event_id = int(view.kwargs["event_id"])
        request.access_claims = access_token_verify(  # type: ignore[attr-defined]
            token=token, user_id=int(user.pk), event_id=event_id
        )
        return True
