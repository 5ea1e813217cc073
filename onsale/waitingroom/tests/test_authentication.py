from __future__ import annotations

import pytest
from django.test import Client

from onsale.waitingroom.models import WaitingRoomConfig


def _join(client: Client, event_id: int, csrf: str | None = "a" * 32):
    headers = {} if csrf is None else {"HTTP_X_CSRFTOKEN": csrf}
    return client.post(
        f"/api/v1/events/{event_id}/queue", content_type="application/json", **headers
    )


@pytest.fixture
def browser(fan) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(fan)
    client.cookies["csrftoken"] = "a" * 32
    return client


@pytest.mark.django_db
def test_signed_in_browser_joins_with_csrf_token(make_room, browser, fan):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    response = _join(browser, room.event_id)
    assert response.status_code == 201
    assert response.json()["number"] == 1
    me = browser.get(f"/api/v1/events/{room.event_id}/queue/me")
    assert (me.status_code, me.json()["number"]) == (200, 1)


@pytest.mark.django_db
def test_missing_csrf_token_is_refused(make_room, browser):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    response = _join(browser, room.event_id, csrf=None)
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    assert browser.get(f"/api/v1/events/{room.event_id}/queue/me").status_code == 404


@pytest.mark.django_db
def test_deactivated_account_is_not_authenticated(make_room, browser, fan):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    # Signed in and cached first: the change must reach the cached check.
    assert browser.get(f"/api/v1/events/{room.event_id}/queue/me").status_code == 404
    fan.is_active = False
    fan.save()
    response = _join(browser, room.event_id)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


@pytest.mark.django_db
def test_password_change_ends_other_sessions(make_room, browser, fan):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    assert browser.get(f"/api/v1/events/{room.event_id}/queue/me").status_code == 404
    fan.set_password("a-completely-new-password-42")
    fan.save()
    response = _join(browser, room.event_id)
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


@pytest.mark.django_db
def test_signed_out_session_is_not_authenticated(make_room, browser):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    browser.logout()
    browser.cookies["csrftoken"] = "a" * 32
    assert _join(browser, room.event_id).status_code == 401


@pytest.mark.django_db
def test_session_from_before_a_secret_key_rotation_still_counts(
    make_room, fan, settings
):
    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    old_secret = settings.SECRET_KEY
    client = Client(enforce_csrf_checks=True)
    client.force_login(fan)  # session hash made with the old secret
    client.cookies["csrftoken"] = "a" * 32
    settings.SECRET_KEY = "rotated-secret-key-for-this-test-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert _join(client, room.event_id).status_code == 201
    settings.SECRET_KEY_FALLBACKS = []
    assert _join(client, room.event_id).status_code == 401


@pytest.mark.django_db
def test_cached_check_makes_the_queue_read_no_mysql(
    make_room, browser, fan, django_assert_num_queries
):
    from onsale.platform.redis import redis_client
    from onsale.usermgmt.selectors import account_cache_key

    room = make_room(state=WaitingRoomConfig.State.PAUSED)
    # The fan was just created: drop the tombstone that creation left.
    redis_client().delete(account_cache_key(fan.pk))
    assert _join(browser, room.event_id).status_code == 201  # fills the cache
    with django_assert_num_queries(0):
        assert _join(browser, room.event_id).status_code == 200
        me = browser.get(f"/api/v1/events/{room.event_id}/queue/me")
    assert me.status_code == 200


@pytest.mark.django_db
def test_user_object_carries_role_and_loads_other_fields_lazily(make_room, fan):
    from rest_framework.test import APIRequestFactory

    from onsale.waitingroom.authentication import QueueSessionAuthentication

    client = Client()
    client.force_login(fan)
    request = APIRequestFactory().get("/")
    from django.contrib.sessions.backends.cache import SessionStore
    from rest_framework.request import Request

    request.session = SessionStore(client.cookies["sessionid"].value)
    drf_request = Request(request)
    user, _ = QueueSessionAuthentication().authenticate(drf_request)
    assert (user.pk, user.role, user.is_active) == (fan.pk, "fan", True)
    assert user.email == fan.email  # deferred: read on first use
