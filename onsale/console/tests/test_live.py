"""The control room's numbers (`event_live_get`, `event_seat_counts_get`) and
the seat and order gauges behind the oversell detector (docs/observability.md),
collected by `seat_gauges_collect`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from onsale.console.live import (
    SeatCounts,
    event_live_get,
    event_seat_counts_get,
    sales_pace_per_minute,
    seat_gauges_collect,
)
from onsale.events.models import Event
from onsale.orders.models import Order, OrderLine
from onsale.platform.observability.metrics import gauges_collect
from onsale.seatselection.models import PriceCategory
from onsale.testutils.checkout import Shopper, checkout_body, seated_event
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.seats import seat_ids
from onsale.testutils.waitingroom import reconfigure
from onsale.waitingroom import services
from onsale.waitingroom.clock import clock_advance, clock_inject
from onsale.waitingroom.selectors import waitingroom_config_get
from onsale.waitingroom.services import waitingroom_config_update

pytestmark = pytest.mark.django_db


def test_event_seat_counts_get_is_all_zero_before_a_seat_map(event) -> None:
    assert event_seat_counts_get(event=event) == SeatCounts(
        capacity=0, available=0, seats_held=0, holds_active=0
    )


def test_event_seat_counts_get_counts_seats_places_and_holds() -> None:
    # given SMALL_MAP (80 seats, 100 standing places) and one hold of two seats
    event = seated_event()
    Shopper(event).hold(seat_ids(event)[:2])
    # then two seats are held by one live hold, and nothing is sold
    assert event_seat_counts_get(event=event) == SeatCounts(
        capacity=180, available=178, seats_held=2, holds_active=1
    )


def test_event_live_get_of_a_draft_event_shows_its_configured_room(
    organizer,
) -> None:
    draft = EventFactory(organization=organizer.organization, status=Event.Status.DRAFT)
    config = waitingroom_config_get(event_id=draft.pk)
    live = event_live_get(event=draft)
    # a draft has no live queue and no seat map: zeros, and the configured room
    assert (live.event_id, live.event_status, live.state) == (
        draft.pk,
        "draft",
        config.state,
    )
    assert (live.rate_per_minute, live.burst, live.max_active) == (
        config.rate_per_minute,
        config.burst,
        config.max_active,
    )
    assert (
        live.queue_length,
        live.serving,
        live.issued,
        live.active_shoppers,
        live.holds,
        live.capacity,
        live.available,
        live.tickets_sold,
    ) == (0, 0, 0, 0, 0, 0, 0, 0)
    assert live.revenue == 0
    assert live.measured_rate_per_minute is None
    assert (live.drain_eta_seconds, live.sellout_eta_seconds) == (None, None)
    assert live.as_document()["revenue"] == "0"


# Committed for real: the sale retires its hold in Redis on commit.
@pytest.mark.django_db(transaction=True)
def test_seat_gauges_show_capacity_sold_and_held() -> None:
    event = seated_event()
    total = len(seat_ids(event))
    buyer = Shopper(event)
    hold = buyer.hold(seat_ids(event)[:3])
    assert (
        buyer.checkout(hold.hold_id, body=checkout_body(hold.hold_id)).status_code
        == 201
    )
    Shopper(event).hold(seat_ids(event)[3:5])

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for sample in seat_gauges_collect()
    }
    labels = (("event_id", event.pk),)
    assert samples[("onsale_event_seats_sold", labels)] == 3
    assert samples[("onsale_seats_held", labels)] == 2
    assert samples[("onsale_holds_active", labels)] == 1
    assert samples[("onsale_event_capacity", labels)] >= total
    assert samples[("onsale_orders", (("state", "paid"),))] == 1
    # and they reach the scrape
    names = {sample.name for sample in gauges_collect().samples}
    assert {
        "onsale_event_capacity",
        "onsale_event_seats_sold",
        "onsale_orders",
    } <= names


def _paid_order(
    event: Event, *, tickets: int, paid_ago: timedelta, state: str = "paid"
) -> None:
    category = PriceCategory.objects.filter(event=event).order_by("position").first()
    assert category is not None
    now = timezone.now()
    order = Order.objects.create(
        user=UserFactory(),
        event=event,
        state=state,
        currency="EUR",
        total=category.price * tickets,
        hold_id=1,
        buyer_name="Fan",
        buyer_email="fan@example.test",
        expires_at=now + timedelta(minutes=10),
        paid_at=now - paid_ago,
    )
    for number in range(tickets):
        OrderLine.objects.create(
            order=order,
            category=category,
            category_name=category.name,
            seat_label=f"A-{number}",
            price=category.price,
        )


def test_event_live_get_makes_no_sellout_estimate_before_a_sale() -> None:
    # given an open room with an admission rate and 180 places, nothing sold
    event = seated_event()
    live = event_live_get(event=event)
    assert (live.state, live.available, live.tickets_sold) == ("open", 180, 0)
    assert live.rate_per_minute > 0
    # then there is no pace and no estimate (not one from the admission rate)
    assert (live.sales_per_minute, live.sellout_eta_seconds) == (None, None)
    assert live.as_document()["sellout_eta_seconds"] is None


def test_event_live_get_estimates_sellout_from_recent_sales() -> None:
    # given 3 tickets sold over the last two minutes (first sale 2 min ago)
    event = seated_event()
    _paid_order(event, tickets=2, paid_ago=timedelta(minutes=2))
    _paid_order(event, tickets=1, paid_ago=timedelta(seconds=30))
    # and a refunded order in the window, which sells nothing
    _paid_order(event, tickets=5, paid_ago=timedelta(seconds=20), state="refunded")
    live = event_live_get(event=event)
    # then the pace is 1.5 tickets a minute and 180 places take 120 minutes
    assert live.sales_per_minute == 1.5
    assert live.sellout_eta_seconds == pytest.approx(7200, rel=0.01)


def test_sales_pace_counts_the_last_five_minutes_only() -> None:
    event = seated_event()
    now = timezone.now()
    # a sale ten minutes ago makes no pace now
    _paid_order(event, tickets=4, paid_ago=timedelta(minutes=10))
    assert sales_pace_per_minute(event=event, now=now) is None
    assert event_live_get(event=event).sellout_eta_seconds is None
    # with 3 tickets in the window, they are spread over the whole window
    _paid_order(event, tickets=3, paid_ago=timedelta(minutes=1))
    assert sales_pace_per_minute(event=event, now=now) == pytest.approx(0.6)


def test_sales_pace_spreads_a_first_sale_over_a_minute() -> None:
    event = seated_event()
    now = timezone.now()
    _paid_order(event, tickets=2, paid_ago=timedelta(seconds=1))
    assert sales_pace_per_minute(event=event, now=now) == pytest.approx(2.0)


def test_event_live_get_makes_no_sellout_estimate_when_paused(
    django_capture_on_commit_callbacks,
) -> None:
    event = seated_event()
    _paid_order(event, tickets=2, paid_ago=timedelta(seconds=30))
    organizer = OrganizerFactory(organization=event.organization)
    with django_capture_on_commit_callbacks(execute=True):
        waitingroom_config_update(event_id=event.pk, actor=organizer, state="paused")
    live = event_live_get(event=event)
    assert live.state == "paused"
    assert live.sales_per_minute == 2.0
    assert live.sellout_eta_seconds is None


def test_event_live_get_counts_lapsed_turns_and_those_taken_back(settings) -> None:
    # given a room keeping a turn 30 s, then 60 s of grace, two admitted at once
    settings.WAITINGROOM_CLOCK_INJECTION = True
    settings.WAITINGROOM_STATUS_MEMO_MS = 0
    settings.WAITINGROOM_GRACE_SECONDS = 60
    now_ms = (int(datetime.now(tz=UTC).timestamp()) + 1) * 1000
    clock_inject(now_ms)
    try:
        event = seated_event()
        now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
        reconfigure(
            waitingroom_config_get(event_id=event.pk),
            prequeue_opens_at=now - timedelta(hours=1),
            onsale_at=now - timedelta(minutes=1),
            rate_per_minute=1,
            burst=2,
            claim_seconds=30,
        )
        for user_id in (1, 2, 3):
            services.queue_join(event_id=event.pk, user_id=user_id, ip="192.0.2.1")
        assert event_live_get(event=event).serving == 2
        # when both admitted fans miss the window and one takes the turn back
        clock_advance(seconds=31)
        services.queue_turn_reclaim(event_id=event.pk, user_id=1, number=1)
        live = event_live_get(event=event)
    finally:
        clock_inject(None)
    # then the room shows two lapsed turns, one taken back
    assert (live.turns_lapsed, live.turns_reclaimed) == (2, 1)
    document = live.as_document()
    assert (document["turns_lapsed"], document["turns_reclaimed"]) == (2, 1)
    assert live.active_shoppers == 1
