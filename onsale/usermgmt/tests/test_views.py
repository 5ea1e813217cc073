"""Account web pages: sign up, log in, log out, account."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from onsale.testutils.factories import UserFactory
from onsale.usermgmt.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def test_signup_page_creates_account_and_signs_in() -> None:
    client = Client()
    assert client.get("/signup/").status_code == 200
    response = client.post(
        "/signup/",
        {"email": "Web@Example.test", "password": PASSWORD, "full_name": "Web Fan"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    account = client.get("/account/")
    assert account.status_code == 200
    assert b"web@example.test" in account.content


def test_signup_page_shows_weak_password_errors_and_writes_nothing() -> None:
    response = Client().post(
        "/signup/", {"email": "weak@example.test", "password": "123"}
    )
    assert response.status_code == 422
    assert b"too short" in response.content
    assert User.objects.count() == 0
    # the error is tied to its field for screen readers
    html = response.content.decode()
    assert 'aria-invalid="true" aria-describedby="id_password_error"' in html
    assert '<div class="errors" id="id_password_error" role="alert">' in html


def test_signup_page_refuses_duplicate_email(fan) -> None:
    response = Client().post("/signup/", {"email": fan.email, "password": PASSWORD})
    assert response.status_code == 422
    assert b"already exists" in response.content
    assert User.objects.count() == 1


def test_login_page_signs_in_and_rotates_session(fan) -> None:
    client = Client()
    client.get("/login/")
    session = client.session
    session["planted"] = "yes"
    session.save()
    before = client.cookies["sessionid"].value
    response = client.post("/login/", {"email": fan.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != before
    assert client.get("/account/").status_code == 200


def test_login_page_wrong_password_is_401_with_message(fan) -> None:
    response = Client().post(
        "/login/", {"email": fan.email, "password": "wrong-password-1"}
    )
    assert response.status_code == 401
    assert b"The email or password is wrong." in response.content


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=2)
def test_login_page_is_throttled_too(fan) -> None:
    client = Client()
    for _ in range(2):
        client.post("/login/", {"email": fan.email, "password": "wrong-password-1"})
    response = client.post("/login/", {"email": fan.email, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # The page says what happened and how long to wait, in minutes.
    assert b"Too many failed sign-ins from this network." in response.content
    assert b"Please wait 5 minutes and try again" in response.content
    assert b'name="email"' in response.content


def test_login_page_lets_many_fans_sign_in_from_one_network() -> None:
    fans = [UserFactory(password=PASSWORD) for _ in range(25)]
    for fan in fans:
        response = Client(REMOTE_ADDR="100.64.0.2").post(
            "/login/", {"email": fan.email, "password": PASSWORD}
        )
        assert response.status_code == 302


def test_login_page_ignores_offsite_next(fan) -> None:
    response = Client().post(
        "/login/?next=https://evil.example/", {"email": fan.email, "password": PASSWORD}
    )
    assert response["Location"] == "/account/"


def test_login_form_needs_csrf_token(fan) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"email": fan.email, "password": PASSWORD})
    assert response.status_code == 403


def test_logout_page_ends_session(fan) -> None:
    client = Client()
    client.force_login(fan)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302


def test_account_page_needs_login() -> None:
    response = Client().get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_pages_carry_security_headers() -> None:
    response = Client().get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_admin_site_is_for_staff_only(fan) -> None:
    client = Client()
    client.force_login(fan)
    assert client.get("/admin/").status_code == 302
    staff = User.objects.create_superuser("root@example.test", PASSWORD)
    client.force_login(staff)
    assert client.get("/admin/usermgmt/user/").status_code == 200


def test_pages_carry_a_content_security_policy() -> None:
    policy = Client().get("/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


def test_api_docs_use_no_external_assets() -> None:
    page = Client().get("/api/docs/").content.decode()
    assert "cdn" not in page.lower()
    assert "/static/drf_spectacular_sidecar/" in page
