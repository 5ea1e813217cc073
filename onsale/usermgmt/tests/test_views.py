"""Account web pages: sign up, log in, log out, account."""

from __future__ import annotations

from datetime import UTC, datetime

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


# --- In German ----------------------------------------------------------------


def test_the_signup_and_login_pages_in_german() -> None:
    signup = Client().get("/signup/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    login = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "<h1>Legen Sie Ihr Konto an</h1>" in signup
    assert '<label for="id_email">E-Mail-Adresse</label>' in signup
    assert '<label for="id_password">Passwort</label>' in signup
    assert "Passwort: mindestens 10 Zeichen, kein gängiges." in signup
    assert '<button type="submit">Registrieren</button>' in signup
    assert "<h1>Anmelden</h1>" in login and "Neu hier?" in login


def test_signup_errors_in_german_say_what_is_wrong(fan) -> None:
    weak = Client().post(
        "/signup/",
        {"email": "schwach@example.test", "password": "123"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    taken = Client().post(
        "/signup/",
        {"email": fan.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    missing = Client().post(
        "/signup/", {"password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de"
    )

    assert weak.status_code == taken.status_code == missing.status_code == 422
    # Django's own password rules, in German.
    assert "Dieses Passwort ist zu kurz" in weak.content.decode()
    assert (
        "Es gibt bereits ein Konto mit dieser E-Mail-Adresse." in taken.content.decode()
    )
    assert "Dieses Feld ist zwingend erforderlich." in missing.content.decode()
    assert User.objects.count() == 1


def test_a_wrong_password_in_german(fan) -> None:
    response = Client().post(
        "/login/",
        {"email": fan.email, "password": "wrong-password-1"},
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 401
    assert "E-Mail-Adresse oder Passwort ist falsch." in response.content.decode()


@override_settings(LOGIN_MAX_ATTEMPTS_PER_ACCOUNT=1, LOGIN_ATTEMPT_WINDOW_SECONDS=60)
def test_a_refused_sign_in_in_german_counts_minutes_in_german(fan) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.post("/login/", {"email": fan.email, "password": "wrong-password-1"})

    response = client.post("/login/", {"email": fan.email, "password": PASSWORD})

    assert response.status_code == 429
    assert (
        "Zu viele fehlgeschlagene Anmeldungen aus diesem Netzwerk. "
        "Bitte warten Sie 1 Minute und versuchen Sie es dann noch einmal"
    ) in response.content.decode()


def test_the_account_page_in_german(fan) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(fan)
    User.objects.filter(pk=fan.pk).update(
        date_joined=datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    )

    html = client.get("/account/").content.decode()

    assert "<h1>Ihr Konto</h1>" in html
    assert "<dt>Rolle</dt><dd>Fan</dd>" in html
    assert "<dt>Mitglied seit</dt><dd>5. März 2026</dd>" in html


def test_the_account_page_in_english_keeps_its_date(fan) -> None:
    client = Client()
    client.force_login(fan)
    User.objects.filter(pk=fan.pk).update(
        date_joined=datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    )

    html = client.get("/account/").content.decode()

    assert "<dt>Member since</dt><dd>5 March 2026</dd>" in html
