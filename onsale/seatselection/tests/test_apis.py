"""The hold API: access tokens, request validation, and the HTTP shapes."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from onsale.seatselection import selectors
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import (
    SMALL_MAP,
    active_holds,
    admitted_client,
    held_indexes,
    seat_ids,
)
from onsale.waitingroom.access import AccessClaims, access_token_issue
from onsale.waitingroom.services import admission_session_end

pytestmark = pytest.mark.django_db


def _url(event) -> str:
    return f"/api/v1/events/{event.pk}/holds"


def test_an_admitted_fan_holds_seats(seated_event, fan):
    client, _grant = admitted_client(seated_event, fan)
    ids = seat_ids(seated_event)

    response = client.post(_url(seated_event), {"seats": ids[:2]}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert [seat["id"] for seat in body["seats"]] == ids[:2]
    assert body["seats"][0] == {
        "id": ids[0],
        "section": "Stalls",
        "row": "A",
        "label": "1",
        "category": "A",
        "price": "50.00",
    }
    assert (body["total"], body["currency"]) == ("100.00", "EUR")
    assert 0 < body["expires_in_seconds"] <= 600
    assert body["expires_at"] <= time.strftime("%Y") + "z"  # an ISO date string
    assert held_indexes(seated_event.pk) == {0, 1}

    current = client.get(f"{_url(seated_event)}/current")
    assert current.status_code == 200
    assert current.json()["hold_id"] == body["hold_id"]

    # released: the session holds nothing, which is an answer, not an error
    assert client.delete(f"{_url(seated_event)}/{body['hold_id']}").status_code == 204
    nothing = client.get(f"{_url(seated_event)}/current")
    assert (nothing.status_code, nothing.content) == (204, b"")


def test_best_available_and_general_admission_through_the_api(seated_event, fan):
    client, _ = admitted_client(seated_event, fan)

    seats = client.post(
        _url(seated_event), {"category": "B", "quantity": 2}, format="json"
    )
    standing = client.post(
        _url(seated_event), {"category": "GA", "quantity": 3}, format="json"
    )

    assert seats.status_code == 201
    assert seats.json()["adjacent"] is True
    assert [s["row"] for s in seats.json()["seats"]] == ["A", "A"]
    assert standing.status_code == 201  # replaces the first hold (one per session)
    assert standing.json()["replaced_hold_id"] == seats.json()["hold_id"]
    assert standing.json()["general_admission"] == [
        {"category": "GA", "name": "Standing", "quantity": 3, "unit_price": "25.00"}
    ]
    assert standing.json()["total"] == "75.00"
    assert held_indexes(seated_event.pk) == set()


def test_hold_without_an_access_token_is_401(seated_event, fan_client):
    response = fan_client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "access_token_required"
    assert active_holds(seated_event.pk) == {}


def test_hold_when_not_signed_in_is_401(seated_event, api_client):
    response = api_client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert active_holds(seated_event.pk) == {}


def test_hold_with_an_expired_token_is_401(seated_event, fan):
    client, grant = admitted_client(seated_event, fan)
    expired = access_token_issue(
        claims=AccessClaims(
            user_id=fan.pk,
            event_id=seated_event.pk,
            session_id=grant.claims.session_id,
            issued_at=int(time.time()) - 7200,
            expires_at=int(time.time()) - 3600,
        )
    )
    client.credentials(HTTP_X_ACCESS_TOKEN=expired)

    response = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "access_session_ended"
    assert active_holds(seated_event.pk) == {}


def test_hold_after_the_session_ended_is_401(seated_event, fan):
    client, grant = admitted_client(seated_event, fan)
    admission_session_end(event_id=seated_event.pk, session_id=grant.claims.session_id)

    response = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "access_session_ended"
    assert active_holds(seated_event.pk) == {}


def test_another_events_token_is_refused(seated_event, fan):
    other = EventFactory()
    services_map(other)
    client, _ = admitted_client(other, fan)  # admitted to the other event

    response = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "access_token_invalid"
    assert response.json()["extra"]["reason"] == "wrong_event"
    assert active_holds(seated_event.pk) == {}


def test_another_fans_token_is_refused(seated_event, fan, make_fan):
    _, grant = admitted_client(seated_event, make_fan())
    client = APIClient()
    client.force_authenticate(fan)
    client.credentials(HTTP_X_ACCESS_TOKEN=grant.token)

    response = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:1]}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["extra"]["reason"] == "wrong_user"
    assert active_holds(seated_event.pk) == {}


def services_map(event) -> None:
    from onsale.seatselection.seatmaps.write import seatmap_replace

    seatmap_replace(event=event, data=SMALL_MAP)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"seats": [-1]}, 400, "invalid"),
        ({"seats": [0]}, 400, "invalid"),
        ({"seats": ["abc"]}, 400, "invalid"),
        ({"seats": [1.5]}, 400, "invalid"),
        ({"seats": [True]}, 400, "invalid"),
        ({"seats": "1,2"}, 400, "invalid"),
        ({"seats": []}, 400, "invalid"),
        ({"seats": list(range(1, 1002))}, 400, "invalid"),
        ({"seats": [10**30]}, 400, "invalid"),
        ({"seats": "DUPLICATE"}, 422, "hold_duplicate_seats"),
        ({"seats": "TWENTY_ONE"}, 422, "hold_too_many_seats"),
        ({"seats": [999_999_999]}, 422, "hold_unknown_seats"),
        ({}, 400, "invalid"),
        ({"category": "A"}, 400, "invalid"),
        ({"category": "A", "quantity": 0}, 400, "invalid"),
        ({"category": "A", "quantity": 21}, 422, "hold_invalid_quantity"),
        ({"category": "NOPE", "quantity": 1}, 422, "hold_unknown_category"),
        ({"category": "A", "quantity": 1, "seats": [1]}, 400, "invalid"),
    ],
)
def test_malformed_hold_requests_hold_nothing(seated_event, fan, body, status, code):
    client, _ = admitted_client(seated_event, fan)
    ids = seat_ids(seated_event)
    if body.get("seats") == "DUPLICATE":
        body = {"seats": [ids[0], ids[1], ids[0]]}
    elif body.get("seats") == "TWENTY_ONE":
        body = {"seats": ids[:21]}

    response = client.post(_url(seated_event), body, format="json")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message", "extra"}
    assert held_indexes(seated_event.pk) == set()
    assert active_holds(seated_event.pk) == {}


def test_a_body_that_is_not_json_is_400(seated_event, fan):
    client, _ = admitted_client(seated_event, fan)

    response = client.post(
        _url(seated_event), "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert active_holds(seated_event.pk) == {}


def test_taken_seats_are_a_409_naming_them(seated_event, fan, make_fan):
    ids = seat_ids(seated_event)
    first, _ = admitted_client(seated_event, fan)
    second, _ = admitted_client(seated_event, make_fan())
    first.post(_url(seated_event), {"seats": ids[1:2]}, format="json")

    response = second.post(_url(seated_event), {"seats": ids[:3]}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "seats_unavailable"
    assert response.json()["extra"]["seat_ids"] == [ids[1]]
    assert held_indexes(seated_event.pk) == {1}


def test_the_per_fan_limit_is_a_409(seated_event, fan):
    client, _ = admitted_client(seated_event, fan)

    response = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:7]}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "seat_limit_reached"
    assert response.json()["extra"] == {
        "held": 0,
        "requested": 7,
        "max_seats_per_fan": 6,
    }


def test_release_through_the_api_only_by_the_owner(seated_event, fan, make_fan):
    client, _ = admitted_client(seated_event, fan)
    held = client.post(
        _url(seated_event), {"seats": seat_ids(seated_event)[:2]}, format="json"
    ).json()
    stranger = APIClient()
    stranger.force_authenticate(make_fan())
    detail = f"{_url(seated_event)}/{held['hold_id']}"

    assert stranger.delete(detail).status_code == 404
    assert stranger.get(detail).status_code == 404
    assert held_indexes(seated_event.pk) == {0, 1}
    assert client.get(detail).status_code == 200
    assert client.delete(detail).status_code == 204
    assert held_indexes(seated_event.pk) == set()
    assert client.delete(detail).status_code == 404


def test_holds_for_an_unpublished_event_are_404(fan, organizer):
    draft = EventFactory(organization=organizer.organization, status="draft")
    services_map(draft)
    client, _ = admitted_client(draft, fan)

    response = client.post(_url(draft), {"seats": seat_ids(draft)[:1]}, format="json")

    assert response.status_code == 404
    assert selectors.availability_snapshot(event_id=draft.pk).version >= 0
    assert active_holds(draft.pk) == {}
