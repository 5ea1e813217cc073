"""Checkout set-up shared by the checkout, orders and console tests and
tests/: an event with a seat map on sale, admitted fans with access tokens,
holds, checkout requests, and a look at what they left behind."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.payments.fake.cards import SUCCESS_CARD
from onsale.seatselection import services as seat_services
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, UserFactory
from onsale.testutils.seats import SMALL_MAP
from onsale.waitingroom.services import admission_session_start


def seated_event(**fields: Any) -> Event:
    """A published event with SMALL_MAP (or `seatmap`), on sale since an hour
    (the map is set before the on-sale, as an organizer must)."""
    now = timezone.now()
    seatmap = fields.pop("seatmap", SMALL_MAP)
    onsale_at = fields.pop("onsale_at", now - timedelta(hours=1))
    fields.setdefault("starts_at", now + timedelta(days=30))
    event = EventFactory.create(onsale_at=now + timedelta(minutes=5), **fields)
    seatmap_replace(event=event, data=seatmap)
    Event.objects.filter(pk=event.pk).update(onsale_at=onsale_at)
    event.refresh_from_db()
    return event


class Shopper:
    """An admitted fan: API client, access token, and helpers to hold and pay."""

    def __init__(self, event: Event, user: Any | None = None) -> None:
        self.event = event
        self.user = user or UserFactory.create()
        self.grant = admission_session_start(event_id=event.pk, user_id=self.user.pk)
        self.token = self.grant.token
        self.client = APIClient()
        self.client.force_authenticate(self.user)

    def hold(self, seats: list[int] | None = None, **kwargs: Any) -> Any:
        """Hold `seats` (or the best available) for this fan's session."""
        return seat_services.hold_create(
            event_id=self.event.pk,
            user_id=self.user.pk,
            session_id=self.grant.claims.session_id,
            session_expires_at=self.grant.claims.expires_at,
            seat_ids=seats,
            **kwargs,
        )

    def checkout(
        self,
        hold_id: int,
        *,
        card: str = SUCCESS_CARD,
        key: str | None = None,
        token: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """POST a checkout of the hold, with a fresh idempotency key unless
        given, and the fan's access token unless another (or none) is."""
        payload = body or checkout_body(hold_id, card=card)
        headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key or uuid.uuid4().hex}
        access = self.token if token is None else token
        if access:
            headers["HTTP_X_ACCESS_TOKEN"] = access
        return self.client.post("/api/v1/checkout", payload, format="json", **headers)


def checkout_body(
    hold_id: int, *, card: str = SUCCESS_CARD, **extra: Any
) -> dict[str, Any]:
    """A valid checkout request body for the hold: a card and a buyer."""
    return {
        "hold_id": hold_id,
        "payment": {
            "card_number": card,
            "exp_month": 12,
            "exp_year": 2030,
            "cvc": "123",
        },
        "buyer": {"name": "Ada Fan", "email": "ada@example.test"},
        **extra,
    }


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the response is the API's error body with `status` and `code`;
    returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code, body
    return body


def seat_unavailable(event: Event, seat_id: int) -> bool:
    """Whether seat selection's live state shows the seat as taken (sold,
    held or blocked)."""
    from onsale.seatselection.models import Seat
    from onsale.seatselection.selectors import availability_snapshot

    index = Seat.objects.values_list("index", flat=True).get(pk=seat_id)
    return availability_snapshot(event_id=event.pk).is_unavailable(index)


def ledger_for(order_id: int) -> list[Any]:
    """The fake provider's charges made for the order."""
    from onsale.payments.fake.models import FakeProviderCharge

    return list(FakeProviderCharge.objects.filter(idempotency_key=f"order-{order_id}"))
