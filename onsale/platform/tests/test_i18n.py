"""The fan's language: the footer switch (remembered in a cookie), the
browser's Accept-Language, and money in the language's number format."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import translation

from onsale.platform import exceptions
from onsale.platform.templatetags.money import money

pytestmark = pytest.mark.django_db

GERMAN_HOME = "Veranstaltungen nach Name oder Spielstätte suchen"
ENGLISH_HOME = "Search events by name or venue"


def test_a_new_fan_gets_english_with_a_footer_to_switch_language():
    html = Client().get("/").content.decode()

    assert '<html lang="en">' in html
    assert ENGLISH_HOME in html
    assert 'action="/i18n/setlang/"' in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    assert '<option value="de" lang="de">Deutsch</option>' in html
    assert '<input type="hidden" name="next" value="/">' in html


def test_choosing_german_in_the_footer_is_remembered_for_the_next_pages():
    client = Client()

    switched = client.post("/i18n/setlang/", {"language": "de", "next": "/?q=x"})

    assert switched.status_code == 302
    assert switched["Location"] == "/?q=x"
    cookie = switched.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "de"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["samesite"] == "Lax"
    html = client.get("/").content.decode()
    assert '<html lang="de">' in html
    assert GERMAN_HOME in html and ENGLISH_HOME not in html
    assert '<option value="de" lang="de" selected>Deutsch</option>' in html
    # The cookie wins over the browser's own preference.
    assert GERMAN_HOME in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_switching_back_to_english_and_to_a_language_we_do_not_offer():
    client = Client()
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    german = client.get("/").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    unknown = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    not_offered = client.get("/").content.decode()

    assert GERMAN_HOME in german
    assert ENGLISH_HOME in english
    # Not a language at all: the choice before it stays.
    assert ENGLISH_HOME in unknown
    # A language Django knows but the site does not offer: the default.
    assert ENGLISH_HOME in not_offered and '<html lang="en">' in not_offered


def test_the_switch_never_sends_the_fan_to_another_site():
    response = Client().post(
        "/i18n/setlang/", {"language": "de", "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("de", GERMAN_HOME),
        ("de-AT,de;q=0.9,en;q=0.5", GERMAN_HOME),
        ("fr-FR,de;q=0.8", GERMAN_HOME),
        ("en-GB,en;q=0.9", ENGLISH_HOME),
        ("fr", ENGLISH_HOME),
    ],
)
def test_the_browsers_accept_language_chooses_the_language(accept_language, expected):
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert expected in response.content.decode()
    assert "Accept-Language" in response["Vary"]


def test_an_error_page_is_in_the_fans_language():
    response = Client().get("/no-such-page", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Seite nicht gefunden" in html
    assert "Zur Startseite" in html and "Fehler 404." in html
    assert 'id="language-form"' not in html  # no request, no CSRF token


def test_the_language_of_one_request_is_not_left_for_the_next():
    Client().get("/", HTTP_ACCEPT_LANGUAGE="de")

    # What runs next on this thread without a request (an outage page raised
    # before the locale middleware) is in the default language.
    assert translation.get_language() == "en"
    page = exceptions.handler404(RequestFactory().get("/x"), Exception())
    assert "Page not found" in page.content.decode()


def test_the_api_keeps_its_codes_whatever_the_language():
    response = Client().get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", Decimal("1234.5"), "EUR", "1,234.50 EUR"),
        ("de", Decimal("1234.5"), "EUR", "1.234,50 EUR"),
        ("de", Decimal("30.50"), "USD", "30,50 USD"),
        ("en", 25, "GBP", "25.00 GBP"),
        ("en", "7.1", "", "7.10"),
        ("de", None, "EUR", ""),
        ("de", "not a number", "EUR", ""),
    ],
)
def test_money_uses_the_languages_separators_and_the_currency_code(
    language, amount, currency, shown
):
    with translation.override(language):
        assert money(amount, currency) == shown


def test_the_header_links_follow_the_fans_language():
    german = Client().get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = Client().get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert ">Anmelden</a>" in german and ">Registrieren</a>" in german
    assert 'aria-label="Konto"' in german
    assert ">Log in</a>" in english and ">Sign up</a>" in english
