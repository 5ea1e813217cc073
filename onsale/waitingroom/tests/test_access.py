from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from onsale.testutils.factories import UserFactory
from onsale.waitingroom import services
from onsale.waitingroom.access import (
    AccessTokenRequired,
    access_token_verify,
)
from onsale.waitingroom.clock import clock_inject
from onsale.waitingroom.signing import jwk_thumbprint, keyring


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())


def _pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class ProtectedApi(APIView):
    """Stands in for a seat selection or checkout view."""

    permission_classes = (AccessTokenRequired,)

    def get(self, request: Any, event_id: int) -> Response:
        claims = request.access_claims
        return Response({"session_id": claims.session_id, "user_id": claims.user_id})


def _call(user: Any, event_id: int, token: str | None) -> Response:
    headers = {} if token is None else {"HTTP_X_ACCESS_TOKEN": token}
    request = APIRequestFactory().get(f"/protected/{event_id}", **headers)
    if user is not None:
        force_authenticate(request, user=user)
    response: Response = ProtectedApi.as_view()(request, event_id=event_id)
    response.render()
    return response


@pytest.fixture
def admitted(make_room: Any) -> tuple[Any, Any, services.AccessGrant]:
    room = make_room()
    fan = UserFactory()
    grant = services.admission_session_start(event_id=room.event_id, user_id=fan.pk)
    return room, fan, grant


@pytest.mark.django_db
def test_valid_token_passes_and_carries_the_claims(admitted):
    room, fan, grant = admitted
    claims = access_token_verify(
        token=grant.token, user_id=fan.pk, event_id=room.event_id
    )
    assert claims == grant.claims
    assert claims.expires_at - claims.issued_at == room.session_seconds
    header = jwt.get_unverified_header(grant.token)
    assert (header["alg"], header["kid"]) == ("EdDSA", keyring().current.kid)
    response = _call(fan, room.event_id, grant.token)
    assert response.status_code == 200
    assert response.data == {"session_id": claims.session_id, "user_id": fan.pk}


def _assert_401(response: Response, code: str) -> None:
    assert response.status_code == 401
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code


@pytest.mark.django_db
def test_missing_token_and_anonymous(admitted):
    room, fan, _ = admitted
    _assert_401(_call(fan, room.event_id, None), "access_token_required")
    _assert_401(_call(None, room.event_id, "x"), "not_authenticated")


@pytest.mark.django_db
def test_wrong_event_and_wrong_user_are_rejected(admitted, make_room):
    room, fan, grant = admitted
    other_room = make_room()
    other_fan = UserFactory()
    response = _call(fan, other_room.event_id, grant.token)
    _assert_401(response, "access_token_invalid")
    assert json.loads(response.content)["extra"] == {"reason": "wrong_event"}
    response = _call(other_fan, room.event_id, grant.token)
    _assert_401(response, "access_token_invalid")
    assert json.loads(response.content)["extra"] == {"reason": "wrong_user"}


@pytest.mark.django_db
def test_forged_tokens_are_rejected(admitted):
    room, fan, grant = admitted
    payload = jwt.decode(grant.token, options={"verify_signature": False})
    kid = keyring().current.kid
    # tampered claims under the real signature
    header_part, _, signature = grant.token.split(".")
    tampered = dict(payload, exp=payload["exp"] + 3600)
    forged = f"{header_part}.{_b64(json.dumps(tampered).encode())}.{signature}"
    _assert_401(_call(fan, room.event_id, forged), "access_token_invalid")
    # signed by another Ed25519 key claiming the real kid
    stranger = ed25519.Ed25519PrivateKey.generate()
    forged = jwt.encode(payload, stranger, algorithm="EdDSA", headers={"kid": kid})
    _assert_401(_call(fan, room.event_id, forged), "access_token_invalid")
    # garbage
    _assert_401(_call(fan, room.event_id, "not.a.jwt"), "access_token_invalid")


@pytest.mark.django_db
def test_alg_none_is_rejected(admitted):
    room, fan, grant = admitted
    payload = jwt.decode(grant.token, options={"verify_signature": False})
    kid = keyring().current.kid
    for alg in ("none", "None", "NONE"):
        token = _unsigned({"alg": alg, "typ": "JWT", "kid": kid}, payload) + "."
        response = _call(fan, room.event_id, token)
        _assert_401(response, "access_token_invalid")


@pytest.mark.django_db
def test_hs256_signed_with_the_public_key_is_rejected(admitted):
    room, fan, grant = admitted
    payload = jwt.decode(grant.token, options={"verify_signature": False})
    current = keyring().current
    public_pem = current.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = current.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    jwk_x = current.jwk()["x"].encode()
    for secret in (public_pem, raw, jwk_x):
        signing_input = _unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": current.kid}, payload
        )
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(mac)}"
        response = _call(fan, room.event_id, token)
        _assert_401(response, "access_token_invalid")
        assert json.loads(response.content)["extra"] == {"reason": "algorithm"}


@pytest.mark.django_db
def test_unknown_kid_is_rejected(admitted):
    room, fan, grant = admitted
    payload = jwt.decode(grant.token, options={"verify_signature": False})
    private = keyring().current.private_key
    for headers in ({"kid": "someone-elses-key"}, {}):
        token = jwt.encode(payload, private, algorithm="EdDSA", headers=headers)
        response = _call(fan, room.event_id, token)
        _assert_401(response, "access_token_invalid")


@pytest.mark.django_db
def test_expired_token_is_rejected_after_the_leeway(make_room, t0, settings):
    settings.WAITINGROOM_JWT_LEEWAY_SECONDS = 30
    room = make_room(now_ms=t0, session_seconds=600)
    fan = UserFactory()
    grant = services.admission_session_start(event_id=room.event_id, user_id=fan.pk)
    end = grant.claims.expires_at
    assert end == t0 // 1000 + 600
    clock_inject((end + 29) * 1000)
    assert _call(fan, room.event_id, grant.token).status_code == 200
    clock_inject((end + 30) * 1000)
    response = _call(fan, room.event_id, grant.token)
    _assert_401(response, "access_session_ended")
    assert json.loads(response.content)["extra"] == {"reason": "expired"}


@pytest.mark.django_db
def test_ended_session_is_rejected(admitted):
    room, fan, grant = admitted
    services.admission_session_end(
        event_id=room.event_id, session_id=grant.claims.session_id
    )
    response = _call(fan, room.event_id, grant.token)
    _assert_401(response, "access_session_ended")
    assert json.loads(response.content)["extra"] == {"reason": "ended"}


@pytest.mark.django_db
def test_rotated_key_verifies_during_the_grace_period_only(
    make_room, tmp_path: Path, settings
):
    # given tokens signed with key A
    old = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "old.pem").write_bytes(_pem(old))
    settings.WAITINGROOM_JWT_PRIVATE_KEY = _pem(old).decode()
    room = make_room(session_seconds=3600)
    fan = UserFactory()
    grant = services.admission_session_start(event_id=room.event_id, user_id=fan.pk)
    assert jwt.get_unverified_header(grant.token)["kid"] == jwk_thumbprint(
        old.public_key()
    )
    # when B becomes current and A is retired now, with 10 minutes of grace
    new = ed25519.Ed25519PrivateKey.generate()
    retired_at = int(time.time())
    settings.WAITINGROOM_JWT_PRIVATE_KEY = _pem(new).decode()
    settings.WAITINGROOM_JWT_PREVIOUS_KEYS = [f"{tmp_path / 'old.pem'}@{retired_at}"]
    settings.WAITINGROOM_JWT_ROTATION_GRACE_SECONDS = 600
    # then A's token still verifies, and new tokens are signed with B
    assert _call(fan, room.event_id, grant.token).status_code == 200
    other = UserFactory()
    new_grant = services.admission_session_start(
        event_id=room.event_id, user_id=other.pk
    )
    assert jwt.get_unverified_header(new_grant.token)["kid"] == jwk_thumbprint(
        new.public_key()
    )
    kids = {key["kid"] for key in _jwks()}
    assert kids == {jwk_thumbprint(old.public_key()), jwk_thumbprint(new.public_key())}
    # and once the grace period is over, A is rejected and unpublished
    clock_inject((retired_at + 599) * 1000)
    assert _call(fan, room.event_id, grant.token).status_code == 200
    clock_inject((retired_at + 600) * 1000)
    response = _call(fan, room.event_id, grant.token)
    _assert_401(response, "access_token_invalid")
    assert json.loads(response.content)["extra"] == {"reason": "unknown_kid"}
    assert {key["kid"] for key in _jwks()} == {jwk_thumbprint(new.public_key())}
    assert _call(other, room.event_id, new_grant.token).status_code == 200


def _jwks() -> list[dict[str, Any]]:
    from onsale.waitingroom.selectors import jwks_get

    return jwks_get()["keys"]  # type: ignore[return-value]


@pytest.mark.django_db
def test_rsa_keys_sign_rs256(make_room, settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.WAITINGROOM_JWT_PRIVATE_KEY = _pem(key).decode()
    room = make_room()
    fan = UserFactory()
    grant = services.admission_session_start(event_id=room.event_id, user_id=fan.pk)
    assert jwt.get_unverified_header(grant.token)["alg"] == "RS256"
    assert _call(fan, room.event_id, grant.token).status_code == 200
    # an EdDSA header on an RSA kid is refused before any check
    payload = jwt.decode(grant.token, options={"verify_signature": False})
    token = jwt.encode(
        payload,
        ed25519.Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": keyring().current.kid},
    )
    _assert_401(_call(fan, room.event_id, token), "access_token_invalid")


def test_production_without_a_key_fails_clearly(settings):
    settings.WAITINGROOM_JWT_DEV_KEY = False
    settings.WAITINGROOM_JWT_PRIVATE_KEY = ""
    settings.WAITINGROOM_JWT_PRIVATE_KEY_FILE = ""
    with pytest.raises(ImproperlyConfigured, match="WAITINGROOM_JWT_PRIVATE_KEY_FILE"):
        keyring()
    settings.WAITINGROOM_JWT_PRIVATE_KEY_FILE = "/nonexistent/jwt.pem"
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        keyring()


def test_weak_rsa_key_is_refused(settings):
    # deliberately weak: the configuration must refuse it
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    settings.WAITINGROOM_JWT_PRIVATE_KEY = _pem(key).decode()
    with pytest.raises(ImproperlyConfigured, match="2048"):
        keyring()


def test_dev_key_is_stable_and_tied_to_the_secret_key(settings):
    first = keyring().current.kid
    settings.WAITINGROOM_JWT_PRIVATE_KEY = ""
    assert keyring().current.kid == first
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"
    assert keyring().current.kid != first
