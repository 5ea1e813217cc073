"""The checkout page (views.py) in the fan's language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from onsale.testutils.checkout import Shopper
from onsale.testutils.seats import seat_ids

pytestmark = pytest.mark.django_db(transaction=True)


def _page(event, language: str | None, *, hold_id: int | None = None):
    shopper = Shopper(event)
    if hold_id is None:
        hold_id = shopper.hold(seat_ids(event)[:1]).hold_id
    client = Client()
    client.force_login(shopper.user)
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    url = reverse("checkout:checkout-page", args=[event.pk, hold_id])
    return client.get(url, **headers)


def test_the_checkout_page_speaks_german_to_a_german_browser(event):
    response = _page(event, "de")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<h1 id="checkout-title">Kasse</h1>' in page
    assert "Kartennummer" in page and "Card number" not in page
    assert "wird abgelehnt" in page
    # The script's catalog, in the page's language, loads before the script.
    assert page.index('src="/i18n/js/de/"') < page.index("checkout/checkout.js")


def test_the_checkout_page_is_english_by_default(event):
    response = _page(event, None)

    page = response.content.decode()
    assert '<h1 id="checkout-title">Checkout</h1>' in page
    assert 'src="/i18n/js/en/"' in page


def test_a_hold_that_is_gone_is_explained_in_german(event):
    response = _page(event, "de", hold_id=999999)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Zurück zum Saalplan" in page


def test_the_script_catalog_carries_the_checkout_scripts_texts(client):
    response = client.get("/i18n/js/de/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Die Verbindung ist fehlgeschlagen." in text
    assert "Ihre Karte wurde abgelehnt." in text
