"""Attacks on the on-sale path, through the real endpoints.

Complements (does not repeat) onsale/waitingroom/tests/test_access.py (token
verifier unit attacks), onsale/seatselection/tests/test_apis.py (per-fan
limit, hold IDOR), onsale/usermgmt/tests/ (login throttles, CSRF, session
fixation, revocation, security headers on /login/) and
tests/security/test_api_fuzz.py (schemathesis over the whole schema).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.seats import held_indexes, run_parallel
from onsale.waitingroom import admission as room_admission
from onsale.waitingroom import services as room_services
from onsale.waitingroom.access import AccessClaims, access_token_issue
from onsale.waitingroom.signing import keyring
from tests.reliability.conftest import client_of, room_open, seat_ids

# --- access tokens through the real hold endpoint ------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _tampered(token: str, _: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["exp"] += 3600  # a longer session, under the real signature
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _alg_none(token: str, _: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    header = {"alg": "none", "typ": "JWT", "kid": keyring().current.kid}
    return _signing_input(header, claims) + "."


def _hs256_with_public_key(token: str, _: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    current = keyring().current
    secret = current.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _signing_input(
        {"alg": "HS256", "typ": "JWT", "kid": current.kid}, claims
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _unknown_kid(token: str, _: Any) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    rogue = ed25519.Ed25519PrivateKey.generate()
    return jwt.encode(claims, rogue, algorithm="EdDSA", headers={"kid": "rogue"})


def _reissued(**changes: int) -> Callable[[str, Any], str]:
    """A token signed with the REAL key, with times moved: only the time
    checks can refuse it."""

    def make(token: str, claims: AccessClaims) -> str:
        now = int(time.time())
        fields = {
            "user_id": claims.user_id,
            "event_id": claims.event_id,
            "session_id": claims.session_id,
            "issued_at": claims.issued_at,
            "expires_at": claims.expires_at,
        }
        fields.update({name: now + offset for name, offset in changes.items()})
        return access_token_issue(claims=AccessClaims(**fields))

    return make


LEEWAY = settings.WAITINGROOM_JWT_LEEWAY_SECONDS
ATTACKS: dict[str, tuple[Callable[[str, Any], str], str]] = {
    "tampered": (_tampered, "access_token_invalid"),
    "alg_none": (_alg_none, "access_token_invalid"),
    "hs256_public_key": (_hs256_with_public_key, "access_token_invalid"),
    "unknown_kid": (_unknown_kid, "access_token_invalid"),
    "expired": (
        _reissued(issued_at=-700, expires_at=-(LEEWAY + 5)),
        "access_session_ended",
    ),
    "not_yet_valid": (
        _reissued(issued_at=LEEWAY + 120, expires_at=LEEWAY + 720),
        "access_token_invalid",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_forged_access_tokens_cannot_hold(seated_event: Event, attack: str) -> None:
    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)
    forge, code = ATTACKS[attack]

    response = client_of(fan, token=forge(grant.token, grant.claims)).post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": [seat_ids(event)[0]]},
        format="json",
    )

    assert response.status_code == 401, response.content
    assert response.json()["code"] == code
    assert held_indexes(event.pk) == set()
    # control: the genuine token holds
    genuine = client_of(fan, token=grant.token).post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": [seat_ids(event)[0]]},
        format="json",
    )
    assert genuine.status_code == 201


@pytest.mark.django_db
def test_token_of_another_event_another_user_or_after_done_cannot_hold(
    seated_event: Event,
) -> None:
    event = seated_event
    other_event = EventFactory()
    room_open(event)
    room_open(other_event)
    fan, thief = UserFactory(), UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)
    elsewhere = room_services.admission_session_start(
        event_id=other_event.pk, user_id=fan.pk
    )
    url = f"/api/v1/events/{event.pk}/holds"
    body = {"seats": [seat_ids(event)[0]]}

    wrong_event = client_of(fan, token=elsewhere.token).post(url, body, format="json")
    assert wrong_event.status_code == 401
    assert wrong_event.json()["extra"] == {"reason": "wrong_event"}
    stolen = client_of(thief, token=grant.token).post(url, body, format="json")
    assert stolen.status_code == 401
    assert stolen.json()["extra"] == {"reason": "wrong_user"}
    # the fan ends the session; the token is dead at once (replay refused)
    done = client_of(fan).post(f"/api/v1/events/{event.pk}/queue/done")
    assert done.status_code in (200, 204)
    replay = client_of(fan, token=grant.token).post(url, body, format="json")
    assert replay.status_code == 401
    assert replay.json()["code"] == "access_session_ended"
    assert held_indexes(event.pk) == set()


# --- one place per account, per-IP limit, denial of inventory -----------------


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_joins_from_one_account_get_one_number(
    seated_event: Event,
) -> None:
    event = seated_event
    room_open(event)
    fan = UserFactory()

    results = run_parallel(
        50,
        lambda n: room_services.queue_join(
            event_id=event.pk, user_id=fan.pk, ip=f"10.3.{n // 250}.{n % 250}"
        ),
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert {place.number for place in results} == {1}
    assert sum(place.joined_now for place in results) == 1
    assert room_admission.admission_evaluate(event_id=event.pk).issued == 1


@pytest.mark.django_db
def test_per_ip_join_limit_answers_429(seated_event: Event, settings: Any) -> None:
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 3
    event = seated_event
    room_open(event)
    answers = [
        client_of(UserFactory(), ip="203.0.113.7").post(
            f"/api/v1/events/{event.pk}/queue"
        )
        for _ in range(4)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[3].json()["code"] == "join_rate_limited"
    assert int(answers[3]["Retry-After"]) >= 1
    assert room_admission.admission_evaluate(event_id=event.pk).issued == 3
    other_ip = client_of(UserFactory(), ip="203.0.113.8")
    assert other_ip.post(f"/api/v1/events/{event.pk}/queue").status_code == 201


@pytest.mark.django_db
def test_re_holding_in_a_loop_never_holds_more_than_the_limit(
    seated_event: Event,
) -> None:
    """Denial of inventory: a fan cycling holds over the whole house holds
    one hold's seats at any time, never more than the per-fan limit."""
    event = seated_event
    room_open(event, max_seats_per_fan=4)
    fan = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)
    client = client_of(fan, token=grant.token)
    seats = seat_ids(event)
    url = f"/api/v1/events/{event.pk}/holds"

    for start in range(0, len(seats) - 4, 2):
        answer = client.post(url, {"seats": seats[start : start + 4]}, format="json")
        assert answer.status_code == 201
        assert held_indexes(event.pk) == set(range(start, start + 4))
    too_many = client.post(url, {"seats": seats[:5]}, format="json")
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "seat_limit_reached"
    # a second session of the same account cannot add to it either
    assert len(held_indexes(event.pk)) == 4


# --- IDOR on organizer resources -----------------------------------------------


@pytest.mark.django_db
def test_another_organizers_event_is_404_everywhere(seated_event: Event) -> None:
    event = seated_event
    stranger = APIClient()
    stranger.force_authenticate(OrganizerFactory())
    base = f"/api/v1/organizer/events/{event.pk}"
    missing = f"/api/v1/organizer/events/{event.pk + 10_000}"

    answers = {
        "detail": stranger.get(base),
        "patch": stranger.patch(base, {"name": "mine now"}, format="json"),
        "seatmap": stranger.get(f"{base}/seatmap"),
        "blocked": stranger.post(
            f"{base}/seatmap/blocked",
            {"seat_ids": seat_ids(event)[:1], "blocked": True},
            format="json",
        ),
        "waitingroom": stranger.get(f"{base}/waitingroom"),
        "waitingroom_patch": stranger.patch(
            f"{base}/waitingroom", {"max_active": 1}, format="json"
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(
        answers, 404
    )
    # nothing leaks by enumeration: an existing event looks like a missing one
    assert stranger.get(base).json() == stranger.get(missing).json()
    event.refresh_from_db()
    assert event.name != "mine now"
    assert not event.seats.filter(blocked=True).exists()
    listed = stranger.get("/api/v1/organizer/events").json()["results"]
    assert event.pk not in [item["id"] for item in listed]


# --- injection strings stored verbatim and rendered escaped --------------------

INJECTION = "<script>alert(1)</script>' OR '1'='1'; DROP TABLE usermgmt_user; --"


@pytest.mark.django_db
def test_injection_strings_are_stored_verbatim_and_rendered_escaped() -> None:
    organizer = OrganizerFactory()
    client = APIClient()
    client.force_authenticate(organizer)
    now = timezone.now()
    created = client.post(
        "/api/v1/organizer/events",
        {
            "name": INJECTION,
            "venue_name": '"><img src=x onerror=alert(2)>',
            "starts_at": (now + timedelta(days=30)).isoformat(),
            "onsale_at": (now + timedelta(days=1)).isoformat(),
            "status": "published",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    event = Event.objects.get(pk=created.json()["id"])
    assert event.name == INJECTION  # stored as data, not executed as SQL
    assert UserFactory._meta.model.objects.filter(pk=organizer.pk).exists()

    page = Client().get(f"/events/{event.pk}/queue")

    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["queue", "seats"])
def test_event_pages_carry_security_headers(seated_event: Event, page: str) -> None:
    client = Client()
    client.force_login(UserFactory())  # the seat page is for signed-in fans
    response = client.get(f"/events/{seated_event.pk}/{page}", secure=True)

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# --- bad input: quantities, client-sent prices, oversized bodies ---------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"category": "A", "quantity": -1},
        {"category": "A", "quantity": 0},
        {"category": "A", "quantity": 10**12},
        {"seats": [-5]},
        {"seats": [2**70]},
    ],
)
def test_negative_and_huge_quantities_hold_nothing(
    seated_event: Event, body: dict[str, Any]
) -> None:
    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)

    response = client_of(fan, token=grant.token).post(
        f"/api/v1/events/{event.pk}/holds", body, format="json"
    )

    assert response.status_code in (400, 422), response.content
    assert set(response.json()) == {"code", "message", "extra"}
    assert held_indexes(event.pk) == set()


@pytest.mark.django_db(transaction=True)
def test_client_sent_prices_are_ignored(seated_event: Event) -> None:
    from onsale.payments.fake.models import FakeProviderCharge
    from onsale.testutils.checkout import checkout_body

    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)
    client = client_of(fan, token=grant.token)
    held = client.post(
        f"/api/v1/events/{event.pk}/holds",
        {"seats": seat_ids(event)[:2]},
        format="json",
    )
    assert held.status_code == 201

    response = client.post(
        "/api/v1/checkout",
        checkout_body(
            held.json()["hold_id"],
            total="0.01",
            price="0.01",
            amount="0.01",
            lines=[{"seat_id": seat_ids(event)[0], "price": "0.01"}],
        ),
        format="json",
        HTTP_IDEMPOTENCY_KEY="price-tamper",
    )

    assert response.status_code == 201, response.content
    assert response.json()["total"] == "80.00"  # 2 x 40.00 from the seat map
    assert [str(c.amount) for c in FakeProviderCharge.objects.all()] == ["80.00"]


@pytest.mark.django_db
def test_an_oversized_body_is_413_before_it_is_read(
    seated_event: Event, settings: Any
) -> None:
    event = seated_event
    room_open(event)
    fan = UserFactory()
    grant = room_services.admission_session_start(event_id=event.pk, user_id=fan.pk)
    huge = {"seats": [1] * 10, "padding": "x" * (settings.MAX_REQUEST_BODY_BYTES + 1)}

    response = client_of(fan, token=grant.token).post(
        f"/api/v1/events/{event.pk}/holds", huge, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert held_indexes(event.pk) == set()
