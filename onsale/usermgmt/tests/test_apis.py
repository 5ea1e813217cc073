"""Account API: register, login, logout, me; errors and limits."""

from __future__ import annotations

import pytest
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.usermgmt.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code
    return body


def login(client: APIClient, email: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/login",
        {"email": email, "password": password},
        format="json",
        **extra,
    )


def test_register_creates_a_fan_with_normalised_email(api_client) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        {
            "email": "  New.Fan@Example.TEST ",
            "password": PASSWORD,
            "full_name": "New Fan",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.fan@example.test"
    assert body["role"] == "fan"
    assert body["organization"] is None
    user = User.objects.get(email="new.fan@example.test")
    assert user.check_password(PASSWORD)
    assert "password" not in body


def test_register_duplicate_email_is_409_and_writes_nothing(api_client, fan) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": fan.email.upper(), "password": PASSWORD},
        format="json",
    )
    body = assert_error(response, 409, "email_taken")
    assert body["extra"] == {"field": "email"}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password", ["short", "password123", "1234567890123", "fan0@example.test"]
)
def test_register_weak_password_is_422_with_reasons(api_client, password) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "fan0@example.test", "password": password},
        format="json",
    )
    body = assert_error(response, 422, "weak_password")
    assert body["extra"]["field"] == "password"
    assert body["extra"]["reasons"]
    assert User.objects.count() == 0


def test_register_invalid_email_is_422(api_client) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "not-an-email", "password": PASSWORD},
        format="json",
    )
    assert_error(response, 422, "invalid_email")
    assert User.objects.count() == 0


def test_register_missing_fields_is_400_naming_them(api_client) -> None:
    response = api_client.post("/api/v1/auth/register", {}, format="json")
    body = assert_error(response, 400, "invalid")
    assert set(body["extra"]["fields"]) == {"email", "password"}


def test_malformed_json_is_400(api_client) -> None:
    response = api_client.post(
        "/api/v1/auth/register", data='{"email": ', content_type="application/json"
    )
    assert_error(response, 400, "malformed_request")
    assert User.objects.count() == 0


def test_wrong_content_type_is_415(api_client) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        data="email=a%40b.test&password=correct-horse-battery-staple",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415, "unsupported_media_type")
    assert User.objects.count() == 0


@override_settings(MAX_REQUEST_BODY_BYTES=1024)
def test_oversized_body_is_413(api_client) -> None:
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "big@example.test", "password": PASSWORD, "full_name": "x" * 2000},
        format="json",
    )
    body = assert_error(response, 413, "request_too_large")
    assert body["extra"] == {"max_bytes": 1024}
    assert User.objects.count() == 0


def test_login_returns_token_and_session_and_me_works_with_each(fan) -> None:
    client = APIClient()
    response = login(client, fan.email.upper())
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == fan.email
    assert len(body["token"]) == 64
    assert "sessionid" in response.cookies

    bearer = APIClient()
    me = bearer.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert me.status_code == 200
    assert me.json()["id"] == fan.pk

    by_cookie = client.get("/api/v1/auth/me")
    assert by_cookie.status_code == 200
    assert by_cookie.json()["id"] == fan.pk


def test_login_wrong_password_and_unknown_user_look_the_same(api_client, fan) -> None:
    wrong = assert_error(
        login(api_client, fan.email, "wrong-password-123"), 401, "invalid_credentials"
    )
    unknown = assert_error(
        login(api_client, "nobody@example.test"), 401, "invalid_credentials"
    )
    assert wrong == unknown
    assert AuthToken.objects.count() == 0


def test_me_without_credentials_is_401(api_client) -> None:
    response = api_client.get("/api/v1/auth/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_bad_bearer_token_is_401(api_client) -> None:
    response = api_client.get(
        "/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer " + "0" * 64
    )
    assert_error(response, 401, "authentication_failed")


def test_session_id_changes_on_login(fan) -> None:
    client = APIClient()
    client.get("/login/")  # an anonymous session could be planted by an attacker
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = client.cookies["sessionid"].value
    response = login(client, fan.email)
    assert response.status_code == 200
    after = client.cookies["sessionid"].value
    assert after != before


def test_logout_kills_the_bearer_token(fan) -> None:
    token = login(APIClient(), fan.email).json()["token"]
    other_token = login(APIClient(), fan.email).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert_error(client.get("/api/v1/auth/me"), 401, "authentication_failed")
    # Only that client's token is revoked; another device stays signed in.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_token}")
    assert other.get("/api/v1/auth/me").status_code == 200


def test_logout_ends_the_cookie_session(fan, csrf_client) -> None:
    assert login(csrf_client, fan.email).status_code == 200
    csrf = csrf_client.cookies["csrftoken"].value
    assert (
        csrf_client.post("/api/v1/auth/logout", HTTP_X_CSRFTOKEN=csrf).status_code
        == 204
    )
    assert_error(csrf_client.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_cookie_authenticated_write_without_csrf_token_is_refused(
    fan, csrf_client
) -> None:
    assert login(csrf_client, fan.email).status_code == 200
    response = csrf_client.post("/api/v1/auth/logout")
    assert_error(response, 403, "csrf_failed")
    # Still signed in: the forged request changed nothing.
    assert csrf_client.get("/api/v1/auth/me").status_code == 200


def test_bearer_writes_need_no_csrf_token(fan, csrf_client) -> None:
    token = login(APIClient(), fan.email).json()["token"]
    csrf_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert csrf_client.post("/api/v1/auth/logout").status_code == 204


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=3, LOGIN_MAX_ATTEMPTS_PER_IP=100)
def test_login_throttle_per_account_from_one_address(api_client, fan) -> None:
    for _ in range(3):
        response = login(
            api_client, fan.email, "wrong-password-123", REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 401
    # The right password from that address is refused: the account is limited there.
    response = login(api_client, fan.email, REMOTE_ADDR="10.0.0.1")
    body = assert_error(response, 429, "login_throttled")
    assert 1 <= int(response["Retry-After"]) <= 300
    assert body["extra"]["retry_after_seconds"] == int(response["Retry-After"])
    # Another account is not affected at that address.
    other = UserFactory(password=PASSWORD)
    assert login(api_client, other.email, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_forty_fans_behind_one_address_all_sign_in(api_client) -> None:
    # Default limits (20 per address): only failures count, and none failed.
    fans = [UserFactory(password=PASSWORD) for _ in range(40)]
    for fan in fans:
        response = login(APIClient(), fan.email, REMOTE_ADDR="100.64.0.1")
        assert response.status_code == 200, response.content


def test_twenty_one_wrong_guesses_from_one_address_are_refused(api_client, fan) -> None:
    # Default limits: 20 failed sign-ins per address, whichever the accounts.
    for number in range(20):
        response = login(
            api_client, f"guess{number}@example.test", REMOTE_ADDR="10.2.2.2"
        )
        assert_error(response, 401, "invalid_credentials")
    response = login(api_client, "guess20@example.test", REMOTE_ADDR="10.2.2.2")
    body = assert_error(response, 429, "login_throttled")
    assert 1 <= int(response["Retry-After"]) <= 300
    assert body["extra"]["retry_after_seconds"] == int(response["Retry-After"])
    # The address is locked, for the right password too; other addresses are not.
    assert_error(
        login(api_client, fan.email, REMOTE_ADDR="10.2.2.2"), 429, "login_throttled"
    )
    assert login(api_client, fan.email, REMOTE_ADDR="10.2.2.3").status_code == 200


def test_a_stranger_cannot_lock_the_owner_out(api_client, fan) -> None:
    # Default limits: 5 failures per account from one address.
    for _ in range(5):
        response = login(
            api_client, fan.email, "wrong-password-123", REMOTE_ADDR="203.0.113.9"
        )
        assert_error(response, 401, "invalid_credentials")
    assert_error(
        login(api_client, fan.email, "wrong-password-123", REMOTE_ADDR="203.0.113.9"),
        429,
        "login_throttled",
    )
    # The owner, from their own address, signs in while the stranger's is locked.
    assert login(api_client, fan.email, REMOTE_ADDR="198.51.100.7").status_code == 200
    assert_error(
        login(api_client, fan.email, REMOTE_ADDR="203.0.113.9"), 429, "login_throttled"
    )


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=100, LOGIN_MAX_ATTEMPTS_PER_IP=4)
def test_login_throttle_per_address_across_accounts(api_client, fan) -> None:
    for number in range(4):
        response = login(
            api_client, f"victim{number}@example.test", REMOTE_ADDR="10.1.1.1"
        )
        assert response.status_code == 401
    assert_error(
        login(api_client, fan.email, REMOTE_ADDR="10.1.1.1"), 429, "login_throttled"
    )
    assert login(api_client, fan.email, REMOTE_ADDR="10.1.1.2").status_code == 200


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=3)
def test_login_throttle_survives_a_new_process_because_it_lives_in_redis(
    api_client, fan
) -> None:
    from onsale.platform import redis as platform_redis

    for _ in range(3):
        login(api_client, fan.email, "wrong-password-123")
    # A restarted pod has no clients in memory; the counts are still in Redis.
    platform_redis._clients.clear()
    assert_error(login(api_client, fan.email), 429, "login_throttled")


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=3)
def test_successful_login_clears_the_account_counter(api_client, fan) -> None:
    login(api_client, fan.email, "wrong-password-123")
    login(api_client, fan.email, "wrong-password-123")
    assert login(api_client, fan.email).status_code == 200
    login(api_client, fan.email, "wrong-password-123")
    login(api_client, fan.email, "wrong-password-123")
    assert login(api_client, fan.email).status_code == 200


def test_organizer_sees_own_organization_but_not_another(api_client) -> None:
    alice = OrganizerFactory(password=PASSWORD)
    bob = OrganizerFactory(password=PASSWORD)
    UserFactory(
        email="colleague@example.test",
        role=User.Role.ORGANIZER,
        organization=alice.organization,
    )
    api_client.force_authenticate(alice)
    own = api_client.get(f"/api/v1/organizations/{alice.organization_id}/members")
    assert own.status_code == 200
    assert [member["email"] for member in own.json()["members"]] == sorted(
        ["colleague@example.test", alice.email]
    )
    other = api_client.get(f"/api/v1/organizations/{bob.organization_id}/members")
    missing = api_client.get("/api/v1/organizations/999999/members")
    assert assert_error(other, 404, "not_found") == assert_error(
        missing, 404, "not_found"
    )


def test_fans_may_not_list_organization_members(api_client, fan) -> None:
    organizer = OrganizerFactory()
    api_client.force_authenticate(fan)
    response = api_client.get(
        f"/api/v1/organizations/{organizer.organization_id}/members"
    )
    assert_error(response, 403, "permission_denied")


def test_a_german_client_gets_the_same_codes_and_our_messages_in_english(
    api_client, fan
) -> None:
    taken = api_client.post(
        "/api/v1/auth/register",
        {"email": fan.email, "password": PASSWORD},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    weak = api_client.post(
        "/api/v1/auth/register",
        {"email": "neu@example.test", "password": "short"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert assert_error(taken, 409, "email_taken")["message"] == (
        "An account with this email already exists."
    )
    body = assert_error(weak, 422, "weak_password")
    assert body["message"] == "The password is too weak."
    # The reasons are Django's password rules, which follow the language.
    assert any("zu kurz" in reason for reason in body["extra"]["reasons"])
