from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.platform.redis import redis_client
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import admission, services
from onsale.waitingroom.access import access_token_verify
from onsale.waitingroom.clock import clock_advance
from onsale.waitingroom.keys import waitingroom_key
from onsale.waitingroom.models import WaitingRoomConfig


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code
    return body


@pytest.mark.django_db
def test_status_is_public_cacheable_and_identical(make_room, api_client, fan_client):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    services.queue_join(event_id=room.event_id, user_id=5, ip="192.0.2.1")
    url = f"/api/v1/events/{room.event_id}/queue/status"
    anonymous = api_client.get(url)
    signed_in = fan_client.get(url)
    assert anonymous.status_code == 200
    assert anonymous["Cache-Control"] == "public, max-age=1"
    assert "Set-Cookie" not in anonymous.headers
    assert "Cookie" not in anonymous.get("Vary", "")
    body = anonymous.json()
    assert {k: v for k, v in body.items() if k != "server_time"} == {
        k: v for k, v in signed_in.json().items() if k != "server_time"
    }
    assert body["state"] == "paused"
    assert (body["serving"], body["issued"], body["waiting"], body["active"]) == (
        0,
        1,
        1,
        0,
    )
    assert body["rate_per_minute"] == room.rate_per_minute
    assert body["measured_rate_per_minute"] is None
    assert body["prequeue_draw"] is None
    assert set(body) >= {"server_time", "onsale_at", "prequeue_opens_at", "burst"}


@pytest.mark.django_db
def test_status_of_unknown_or_draft_event_is_404(api_client):
    _error(api_client.get("/api/v1/events/999999/queue/status"), 404, "event_not_found")
    draft = EventFactory(status=Event.Status.DRAFT)
    _error(
        api_client.get(f"/api/v1/events/{draft.pk}/queue/status"),
        404,
        "event_not_found",
    )


@pytest.mark.django_db
def test_join_api(make_room, api_client, fan, fan_client):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    url = f"/api/v1/events/{room.event_id}/queue"
    _error(api_client.post(url), 401, "not_authenticated")
    first = fan_client.post(url)
    assert first.status_code == 201
    assert first.json() == {"event_id": room.event_id, "number": 1, "state": "waiting"}
    again = fan_client.post(url)
    assert again.status_code == 200
    assert again.json() == first.json()


@pytest.mark.django_db
def test_join_api_errors(make_room, fan_client, settings):
    _error(fan_client.post("/api/v1/events/999999/queue"), 404, "event_not_found")
    draft = EventFactory(status=Event.Status.DRAFT)
    _error(fan_client.post(f"/api/v1/events/{draft.pk}/queue"), 404, "event_not_found")
    closed = make_room(state=WaitingRoomConfig.State.CLOSED)
    _error(
        fan_client.post(f"/api/v1/events/{closed.event_id}/queue"), 409, "queue_closed"
    )
    early = make_room(onsale_in=7200, prequeue_opens_in=3600)
    body = _error(
        fan_client.post(f"/api/v1/events/{early.event_id}/queue"), 409, "queue_not_open"
    )
    assert "prequeue_opens_at" in body["extra"]
    # cancelled events are closed
    cancelled = make_room()
    Event.objects.filter(pk=cancelled.event_id).update(status=Event.Status.CANCELLED)
    services.rooms_tick()
    _error(
        fan_client.post(f"/api/v1/events/{cancelled.event_id}/queue"),
        409,
        "queue_closed",
    )


@pytest.mark.django_db
def test_join_api_rate_limited_per_ip(make_room, settings):
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 2
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    url = f"/api/v1/events/{room.event_id}/queue"
    for _ in range(2):
        assert _client(UserFactory()).post(url).status_code == 201
    response = _client(UserFactory()).post(url)
    _error(response, 429, "join_rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert redis_client().hget(waitingroom_key(room.event_id, "q"), "issued") == "2"


@pytest.mark.django_db
def test_me_waiting_then_claim_then_done(make_room, t0):
    room = make_room(now_ms=t0, rate_per_minute=60, burst=1, max_active=10)
    fans = [UserFactory() for _ in range(3)]
    for fan in fans:
        _client(fan).post(f"/api/v1/events/{room.event_id}/queue")
    me_url = f"/api/v1/events/{room.event_id}/queue/me"
    # the third fan waits with two ahead... the first is admitted at once
    third = _client(fans[2]).get(me_url)
    assert third.status_code == 200
    assert third["Cache-Control"] == "private, no-store"
    body = third.json()
    assert (body["number"], body["state"], body["serving"], body["ahead"]) == (
        3,
        "waiting",
        1,
        1,
    )
    assert body["access_token"] is None
    # the first fan's "me" is the claim
    first = _client(fans[0]).get(me_url).json()
    assert first["state"] == "active"
    claims = access_token_verify(
        token=first["access_token"], user_id=fans[0].pk, event_id=room.event_id
    )
    assert first["session_id"] == claims.session_id
    # asking again returns the same session and token
    again = _client(fans[0]).get(me_url).json()
    assert (again["access_token"], again["session_id"]) == (
        first["access_token"],
        first["session_id"],
    )
    # done ends it (idempotent) and the token stops working
    done_url = f"/api/v1/events/{room.event_id}/queue/done"
    assert _client(fans[0]).post(done_url).status_code == 204
    assert _client(fans[0]).post(done_url).status_code == 204
    assert _client(fans[0]).get(me_url).json()["state"] == "done"
    status = _client(fans[0]).get(f"/api/v1/events/{room.event_id}/queue/status")
    assert status.json()["active"] == 0
    # the next fan is admitted on schedule
    clock_advance(seconds=1)
    second = _client(fans[1]).get(me_url).json()
    assert second["state"] == "active"


@pytest.mark.django_db
def test_me_not_in_queue_and_prequeue(make_room, fan_client, fan, t0):
    room = make_room(now_ms=t0, onsale_in=600)
    me_url = f"/api/v1/events/{room.event_id}/queue/me"
    _error(fan_client.get(me_url), 404, "not_in_queue")
    assert fan_client.post(f"/api/v1/events/{room.event_id}/queue").json() == {
        "event_id": room.event_id,
        "number": None,
        "state": "prequeue",
    }
    body = fan_client.get(me_url).json()
    assert (body["number"], body["state"], body["ahead"]) == (None, "prequeue", None)
    clock_advance(seconds=600)
    body = fan_client.get(me_url).json()
    assert body["number"] == 1
    status = fan_client.get(f"/api/v1/events/{room.event_id}/queue/status").json()
    assert status["prequeue_draw"]["size"] == 1
    assert status["prequeue_draw"]["method"] == "sha1-ctr-fisher-yates-v1"


@pytest.mark.django_db
def test_organizer_reads_and_changes_the_room_live(
    make_room, api_client, fan_client, django_capture_on_commit_callbacks
):
    room = make_room()
    organizer = OrganizerFactory(organization=room.event.organization)
    url = f"/api/v1/organizer/events/{room.event_id}/waitingroom"
    client = _client(organizer)
    got = client.get(url)
    assert got.status_code == 200
    assert got.json()["rate_per_minute"] == room.rate_per_minute
    version = got.json()["version"]
    onsale = (room.onsale_at + timedelta(minutes=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            url,
            {
                "state": "paused",
                "rate_per_minute": 1200,
                "burst": 7,
                "onsale_at": onsale,
            },
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["rate_per_minute"], body["burst"]) == (
        "paused",
        1200,
        7,
    )
    assert body["version"] == version + 1
    # live at once, no database read needed by the status
    status = fan_client.get(f"/api/v1/events/{room.event_id}/queue/status").json()
    assert (status["state"], status["rate_per_minute"], status["burst"]) == (
        "paused",
        1200,
        7,
    )
    config = WaitingRoomConfig.objects.get(event_id=room.event_id)
    assert (config.state, config.rate_per_minute, config.version) == (
        "paused",
        1200,
        version + 1,
    )


@pytest.mark.django_db
def test_organizer_api_permissions_and_validation(make_room, api_client, fan_client):
    room = make_room()
    url = f"/api/v1/organizer/events/{room.event_id}/waitingroom"
    _error(api_client.get(url), 401, "not_authenticated")
    _error(fan_client.patch(url, {"burst": 3}, format="json"), 403, "permission_denied")
    stranger = OrganizerFactory()
    _error(_client(stranger).get(url), 404, "event_not_found")
    _error(
        _client(stranger).patch(url, {"burst": 3}, format="json"),
        404,
        "event_not_found",
    )
    organizer = OrganizerFactory(organization=room.event.organization)
    client = _client(organizer)
    body = _error(client.patch(url, {"burst": 0}, format="json"), 400, "invalid")
    assert "burst" in body["extra"]["fields"]
    _error(client.patch(url, {"state": "sideways"}, format="json"), 400, "invalid")
    late = (room.onsale_at + timedelta(hours=1)).isoformat()
    _error(
        client.patch(url, {"prequeue_opens_at": late}, format="json"),
        422,
        "invalid_waitingroom_config",
    )
    # nothing changed
    config = WaitingRoomConfig.objects.get(event_id=room.event_id)
    assert (config.burst, config.state, config.version) == (
        room.burst,
        room.state,
        room.version,
    )
    staff = UserFactory(role="staff")
    assert _client(staff).get(url).status_code == 200


@pytest.mark.django_db
def test_live_copy_is_reseeded_and_reconciled(make_room, api_client):
    room = make_room(rate_per_minute=321)
    status_url = f"/api/v1/events/{room.event_id}/queue/status"
    # Redis lost the live copy: the next request rebuilds it from MySQL
    redis_client().delete(waitingroom_key(room.event_id, "cfg"))
    assert api_client.get(status_url).json()["rate_per_minute"] == 321
    # a change that reached MySQL but not Redis is made live by the beat tick
    WaitingRoomConfig.objects.filter(pk=room.pk).update(
        rate_per_minute=654, version=room.version + 5
    )
    assert api_client.get(status_url).json()["rate_per_minute"] == 321
    services.rooms_tick()
    assert api_client.get(status_url).json()["rate_per_minute"] == 654
    # a rolled-back version (Redis ahead of MySQL) is overwritten too
    WaitingRoomConfig.objects.filter(pk=room.pk).update(
        rate_per_minute=111, version=room.version + 1
    )
    services.rooms_tick()
    assert api_client.get(status_url).json()["rate_per_minute"] == 111
    # a stale writer never undoes a newer version
    reconfigure(room, rate_per_minute=222)  # version + 1 again: not newer
    stale = WaitingRoomConfig.objects.select_related("event").get(pk=room.pk)
    stale.version = 1
    stale.rate_per_minute = 1
    assert not admission.waitingroom_live_config_push(config=stale)


@pytest.mark.django_db
def test_jwks_publishes_the_verification_key(make_room, api_client):
    room = make_room()
    fan = UserFactory()
    grant = services.admission_session_start(event_id=room.event_id, user_id=fan.pk)
    response = api_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert (keys[0]["kty"], keys[0]["crv"], keys[0]["alg"], keys[0]["use"]) == (
        "OKP",
        "Ed25519",
        "EdDSA",
        "sig",
    )
    assert "d" not in keys[0]
    # an outside verifier can check a token with nothing but the JWKS
    jwk_set = jwt.PyJWKSet.from_dict(response.json())
    kid = jwt.get_unverified_header(grant.token)["kid"]
    key = next(k for k in jwk_set.keys if k.key_id == kid)
    claims = jwt.decode(
        grant.token,
        key.key,
        algorithms=["EdDSA"],
        audience=f"event:{room.event_id}",
    )
    assert (claims["sub"], claims["jti"]) == (str(fan.pk), grant.claims.session_id)


@pytest.mark.django_db
def test_reclaim_and_rejoin_apis_report_each_state(make_room, t0, settings):
    # Given a 30 s claim window, a 60 s grace period, one admission a minute
    settings.WAITINGROOM_GRACE_SECONDS = 60
    room = make_room(
        now_ms=t0, rate_per_minute=1, burst=1, max_active=10, claim_seconds=30
    )
    fans = [UserFactory() for _ in range(3)]
    for fan in fans:
        _client(fan).post(f"/api/v1/events/{room.event_id}/queue")
    base = f"/api/v1/events/{room.event_id}/queue"
    first, second = _client(fans[0]), _client(fans[1])
    assert first.get(f"{base}/status").json()["serving"] == 1
    # a fan still waiting can neither take back nor rejoin
    _error(second.post(f"{base}/reclaim"), 409, "not_admitted")
    _error(second.post(f"{base}/rejoin"), 409, "turn_not_over")
    _error(_client(UserFactory()).post(f"{base}/reclaim"), 404, "not_in_queue")
    _error(first.post(f"{base}/reclaim", {"number": 0}, format="json"), 400, "invalid")

    # the first fan misses the claim window: `me` says lapsed, until when
    clock_advance(seconds=30)
    me = first.get(f"{base}/me").json()
    assert (me["state"], me["access_token"]) == ("lapsed", None)
    assert me["grace_ends_at"] == admission.ms_to_datetime(t0 + 90_000).isoformat()

    # taking it back within the grace period starts the session, same number
    taken = first.post(f"{base}/reclaim", {"number": 1}, format="json")
    assert taken.status_code == 200
    assert taken["Cache-Control"] == "private, no-store"
    body = taken.json()
    assert (body["number"], body["state"]) == (1, "active")
    claims = access_token_verify(
        token=body["access_token"], user_id=fans[0].pk, event_id=room.event_id
    )
    again = first.post(f"{base}/reclaim", {"number": 1}, format="json").json()
    assert again["session_id"] == claims.session_id
    _error(
        first.post(f"{base}/rejoin", {"number": 1}, format="json"), 409, "turn_not_over"
    )

    # the second fan's turn comes at the next minute, lapses, and its grace ends
    clock_advance(seconds=30)
    assert first.get(f"{base}/status").json()["serving"] == 2
    clock_advance(seconds=30 + 60)
    assert second.get(f"{base}/me").json()["state"] == "expired"
    _error(
        second.post(f"{base}/reclaim", {"number": 2}, format="json"),
        409,
        "turn_grace_over",
    )

    # rejoining gives a new place at the back; repeating it, the same place
    rejoined = second.post(f"{base}/rejoin", {"number": 2}, format="json")
    assert rejoined.status_code == 201
    assert rejoined.json() == {
        "event_id": room.event_id,
        "number": 4,
        "state": "waiting",
    }
    repeated = second.post(f"{base}/rejoin", {"number": 2}, format="json")
    assert (repeated.status_code, repeated.json()["number"]) == (200, 4)
    _error(
        second.post(f"{base}/reclaim", {"number": 2}, format="json"),
        409,
        "place_changed",
    )
    status = first.get(f"{base}/status").json()
    assert status["issued"] == 4


@pytest.mark.django_db
def test_reclaim_api_while_paused_keeps_the_turn_with_retry_after(
    make_room, t0, settings
):
    settings.WAITINGROOM_GRACE_SECONDS = 60
    room = make_room(now_ms=t0, rate_per_minute=1, burst=1, claim_seconds=30)
    fan = UserFactory()
    base = f"/api/v1/events/{room.event_id}/queue"
    _client(fan).post(base)
    assert _client(fan).get(f"{base}/status").json()["serving"] == 1
    clock_advance(seconds=31)
    reconfigure(room, state=WaitingRoomConfig.State.PAUSED)

    response = _client(fan).post(f"{base}/reclaim", {"number": 1}, format="json")

    body = _error(response, 409, "admission_paused")
    assert response["Retry-After"] == "5"
    assert body["extra"] == {
        "grace_ends_at": admission.ms_to_datetime(t0 + 90_000).isoformat()
    }
    assert _client(fan).get(f"{base}/me").json()["state"] == "lapsed"
