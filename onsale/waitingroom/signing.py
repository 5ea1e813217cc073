"""The keys that sign and verify access tokens, and their JWKS.

One current key signs; keys rotated out stay valid for verification for
`WAITINGROOM_JWT_ROTATION_GRACE_SECONDS` after their retirement, then are
rejected (and leave the JWKS). Each key is pinned to its own algorithm
(Ed25519 keys to EdDSA, RSA keys to RS256): the algorithm a token names in its
header is never trusted to choose how it is checked.

Configuration (see `.env.example`):

- `WAITINGROOM_JWT_PRIVATE_KEY_FILE` or `WAITINGROOM_JWT_PRIVATE_KEY`: PEM of
  the current signing key. Required outside debug/test mode.
- `WAITINGROOM_JWT_PREVIOUS_KEYS`: comma-separated `path.pem@retired_at`
  (retired_at in epoch seconds or ISO 8601), private or public PEMs.
- `WAITINGROOM_JWT_DEV_KEY`: in debug or test mode only, with no PEM
  configured, the key is derived from `SECRET_KEY`, so every process of one
  deployment agrees without sharing a file.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # "EdDSA" or "RS256"
    public_key: PublicKey
    private_key: PrivateKey | None
    retired_at: float | None  # None for the current key

    def jwk(self) -> dict[str, Any]:
        return {
            **_public_jwk(self.public_key),
            "kid": self.kid,
            "alg": self.algorithm,
            "use": "sig",
        }

    def accepted_at(self, now: float) -> bool:
        """Whether tokens signed with this key are still accepted at `now`."""
        if self.retired_at is None:
            return True
        return now < self.retired_at + settings.WAITINGROOM_JWT_ROTATION_GRACE_SECONDS


@dataclass(frozen=True)
class KeyRing:
    current: SigningKey
    previous: tuple[SigningKey, ...]

    def verification_key(self, *, kid: str, now: float) -> SigningKey | None:
        """The key for `kid`, if it is current or retired less than the grace
        period ago; None otherwise (unknown or expired kid)."""
        for key in (self.current, *self.previous):
            if key.kid == kid:
                return key if key.accepted_at(now) else None
        return None

    def published(self, *, now: float) -> list[SigningKey]:
        return [key for key in (self.current, *self.previous) if key.accepted_at(now)]


def _public_jwk(public_key: PublicKey) -> dict[str, Any]:
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return dict(OKPAlgorithm.to_jwk(public_key, as_dict=True))
    return dict(RSAAlgorithm.to_jwk(public_key, as_dict=True))


def jwk_thumbprint(public_key: PublicKey) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url): the default `kid`, stable for
    a key and different for every other key."""
    jwk = _public_jwk(public_key)
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = json.dumps(
        {name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _algorithm_for(public_key: PublicKey) -> str:
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if public_key.key_size < MIN_RSA_BITS:
        raise ImproperlyConfigured(
            f"Access token RSA keys need at least {MIN_RSA_BITS} bits."
        )
    return "RS256"


def _load_pem(pem: bytes, *, source: str) -> tuple[PublicKey, PrivateKey | None]:
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        private = None
    if private is not None:
        if not isinstance(private, PrivateKey):
            raise ImproperlyConfigured(
                f"{source}: access tokens need an Ed25519 or RSA key."
            )
        return private.public_key(), private
    try:
        public = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{source}: not a PEM key ({exc}).") from None
    if not isinstance(public, PublicKey):
        raise ImproperlyConfigured(
            f"{source}: access tokens need an Ed25519 or RSA key."
        )
    return public, None


def _read_file(path: str, *, setting: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"{setting}: cannot read {path} ({exc}).") from None


def _parse_retired_at(text: str, *, entry: str) -> float:
    try:
        return float(int(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ImproperlyConfigured(
            f"WAITINGROOM_JWT_PREVIOUS_KEYS: {entry!r} must end in @<epoch seconds> "
            "or @<ISO 8601 time>."
        ) from None
    if moment.tzinfo is None:
        raise ImproperlyConfigured(
            f"WAITINGROOM_JWT_PREVIOUS_KEYS: {entry!r} needs a time zone."
        )
    return moment.timestamp()


def _dev_private_key() -> ed25519.Ed25519PrivateKey:
    seed = hashlib.sha256(
        b"onsale waitingroom development access-token key:"
        + settings.SECRET_KEY.encode()
    ).digest()
    return ed25519.Ed25519PrivateKey.from_private_bytes(seed)


def _current_key() -> SigningKey:
    pem_text: str = settings.WAITINGROOM_JWT_PRIVATE_KEY
    pem_file: str = settings.WAITINGROOM_JWT_PRIVATE_KEY_FILE
    private: PrivateKey | None
    if pem_text or pem_file:
        source = "WAITINGROOM_JWT_PRIVATE_KEY" if pem_text else pem_file
        pem = (
            pem_text.encode()
            if pem_text
            else _read_file(pem_file, setting="WAITINGROOM_JWT_PRIVATE_KEY_FILE")
        )
        public, private = _load_pem(pem, source=source)
        if private is None:
            raise ImproperlyConfigured(
                f"{source}: the current access-token key must be a private key."
            )
    elif settings.WAITINGROOM_JWT_DEV_KEY:
        private = _dev_private_key()
        public = private.public_key()
    else:
        raise ImproperlyConfigured(
            "Access tokens need a signing key: set WAITINGROOM_JWT_PRIVATE_KEY_FILE "
            "(or WAITINGROOM_JWT_PRIVATE_KEY) to an Ed25519 or RSA private key PEM. "
            "Generate one with: openssl genpkey -algorithm ed25519 -out jwt.pem"
        )
    kid = settings.WAITINGROOM_JWT_KID or jwk_thumbprint(public)
    return SigningKey(kid, _algorithm_for(public), public, private, None)


def _previous_keys(current_kid: str) -> tuple[SigningKey, ...]:
    keys = []
    for entry in settings.WAITINGROOM_JWT_PREVIOUS_KEYS:
        path, separator, retired = entry.rpartition("@")
        if not separator or not path:
            raise ImproperlyConfigured(
                f"WAITINGROOM_JWT_PREVIOUS_KEYS: {entry!r} must be path.pem@retired_at."
            )
        public, private = _load_pem(
            _read_file(path, setting="WAITINGROOM_JWT_PREVIOUS_KEYS"), source=path
        )
        kid = jwk_thumbprint(public)
        if kid == current_kid:
            continue
        keys.append(
            SigningKey(
                kid,
                _algorithm_for(public),
                public,
                private,
                _parse_retired_at(retired, entry=entry),
            )
        )
    return tuple(keys)


@functools.cache
def keyring() -> KeyRing:
    """The configured keys, loaded once per process (and again when a test
    changes the settings). Raises ImproperlyConfigured on a bad configuration;
    the app checks it at start."""
    current = _current_key()
    return KeyRing(current, _previous_keys(current.kid))


@receiver(setting_changed)
def _reload_keys(*, setting: str, **_: Any) -> None:
    if setting.startswith("WAITINGROOM_JWT_") or setting == "SECRET_KEY":
        keyring.cache_clear()
