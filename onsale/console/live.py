"""The organizer's live control room: one document built from each app's own
selectors (queue, seats, sales), never from their Redis keys directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from onsale.events.models import Event
from onsale.orders.selectors import (
    event_sales_get,
    event_sales_pace_get,
    order_counts_by_state,
)
from onsale.platform.observability.metrics import GaugeSample
from onsale.seatselection.layout import seat_layout_get, sold_seat_ids
from onsale.seatselection.models import Seat, SeatMap
from onsale.seatselection.selectors import availability_snapshot, hold_count_get
from onsale.waitingroom.selectors import queue_status_get, waitingroom_config_get


@dataclass(frozen=True)
class LiveRoom:
    """What the control room shows for one event at one moment.

    `queue_length` counts fans waiting (numbered and undrawn pre-queue);
    `active_shoppers` those admitted and not finished (claimed or not);
    `holds` seats held now (unavailable seats that are neither sold nor
    blocked) plus nothing for GA, whose holds the snapshot does not split out;
    `tickets_sold` / `revenue` paid orders; `sales_per_minute` the pace of
    real sales lately (see `sales_pace_per_minute`), None with no recent sale.
    ETAs are seconds, None when they cannot be estimated (no rate, nothing
    waiting, nothing left to sell, no recent sale).
    """

    event_id: int
    event_status: str
    state: str
    queue_length: int
    serving: int
    issued: int
    rate_per_minute: int
    burst: int
    max_active: int
    session_seconds: int
    measured_rate_per_minute: float | None
    active_shoppers: int
    holds: int
    capacity: int
    available: int
    tickets_sold: int
    revenue: Decimal
    currency: str
    drain_eta_seconds: float | None
    sales_per_minute: float | None
    sellout_eta_seconds: float | None
    server_time: datetime
    # Admitted turns that lapsed unclaimed, and of those the ones taken back
    # within the grace period (the waiting room's counts; zero for a draft).
    turns_lapsed: int = 0
    turns_reclaimed: int = 0

    def as_document(self) -> dict[str, Any]:
        document = dict(self.__dict__)
        document["revenue"] = str(self.revenue)
        document["server_time"] = self.server_time.isoformat()
        return document


@dataclass(frozen=True)
class SeatCounts:
    """Seats and places of an event right now: `capacity` sellable (seats not
    blocked, plus general-admission capacity), `available` free to hold,
    `seats_held` numbered seats under a live hold (GA holds are not split out
    by the snapshot), `holds_active` live holds."""

    capacity: int
    available: int
    seats_held: int
    holds_active: int


def event_seat_counts_get(*, event: Event) -> SeatCounts:
    """The seat counts of `event`; all zero before it has a seat map."""
    if not SeatMap.objects.filter(event=event).exists():
        return SeatCounts(capacity=0, available=0, seats_held=0, holds_active=0)
    layout = seat_layout_get(event_id=event.pk)
    snapshot = availability_snapshot(event_id=event.pk)
    unavailable = int.from_bytes(snapshot.unavailable, "big").bit_count()
    blocked = Seat.objects.filter(event=event, blocked=True).count()
    sold_seats = len(sold_seat_ids(event_id=event.pk))
    ga_capacity = sum(
        info.capacity or 0
        for info in layout.categories.values()
        if info.general_admission
    )
    return SeatCounts(
        capacity=layout.seat_count - blocked + ga_capacity,
        available=(layout.seat_count - unavailable)
        + sum(snapshot.general_admission.values()),
        seats_held=max(0, unavailable - blocked - sold_seats),
        holds_active=hold_count_get(event_id=event.pk),
    )


# The sell-out estimate follows the sales of the last five minutes, and a
# first sale is counted over a minute at least, so two tickets sold a second
# ago do not read as 120 a minute.
SALES_WINDOW = timedelta(minutes=5)
SALES_SPAN_MIN = timedelta(minutes=1)


def sales_pace_per_minute(*, event: Event, now: datetime) -> float | None:
    """Tickets sold a minute, from the paid orders of the last five minutes
    over the time they cover (since the first sale, if that is more recent;
    a minute at least). None when nothing was sold in that window."""
    since = now - SALES_WINDOW
    pace = event_sales_pace_get(event=event, since=since)
    if not pace.tickets or pace.first_paid_at is None:
        return None
    span = max(now - max(since, pace.first_paid_at), SALES_SPAN_MIN)
    return pace.tickets / span.total_seconds() * 60


def event_live_get(*, event: Event) -> LiveRoom:
    """The control-room numbers of `event` (the caller checked the viewer may
    see it).

    Queue numbers come from the waiting room's public status (which also
    advances admission, as any status read does); a draft event has no live
    queue, so its numbers are zero and its settings are the configured ones.
    Seats come from the availability snapshot, sales from the orders app.
    Drain ETA = waiting / admission rate (measured if known, else configured);
    sell-out ETA = seats and places left / the pace of real sales
    (`sales_pace_per_minute`): none before the first sale or when nothing
    sold lately, never one made up from the admission rate; rough, and
    labelled so.
    """
    config = waitingroom_config_get(event_id=event.pk)
    state = config.state
    queue_length = serving = issued = active = lapsed = reclaimed = 0
    measured: float | None = None
    rate, burst, max_active = (
        config.rate_per_minute,
        config.burst,
        config.max_active,
    )
    if event.status != Event.Status.DRAFT:
        status = queue_status_get(event_id=event.pk)
        state, queue_length = status.state, status.waiting
        serving, issued = status.serving, status.issued
        active = status.active + status.admitted_unclaimed
        measured = status.measured_rate_per_minute
        lapsed, reclaimed = status.turns_lapsed, status.turns_reclaimed
        rate, burst, max_active = (
            status.rate_per_minute,
            status.burst,
            status.max_active,
        )

    seats = event_seat_counts_get(event=event)
    capacity, available, holds = seats.capacity, seats.available, seats.seats_held

    sales = event_sales_get(event=event)
    per_minute = measured if measured else float(rate)
    drain = (
        round(queue_length / per_minute * 60, 1)
        if queue_length and per_minute > 0 and state not in ("paused", "closed")
        else None
    )
    now = datetime.now(tz=UTC)
    selling = sales_pace_per_minute(event=event, now=now)
    sellout = (
        round(available / selling * 60, 1)
        if available and selling and state not in ("paused", "closed")
        else None
    )
    return LiveRoom(
        event_id=event.pk,
        event_status=event.status,
        state=state,
        queue_length=queue_length,
        serving=serving,
        issued=issued,
        rate_per_minute=rate,
        burst=burst,
        max_active=max_active,
        session_seconds=config.session_seconds,
        measured_rate_per_minute=measured,
        active_shoppers=active,
        holds=holds,
        capacity=capacity,
        available=available,
        tickets_sold=sales.tickets_sold,
        revenue=sales.revenue,
        currency=event.currency,
        drain_eta_seconds=drain,
        sales_per_minute=round(selling, 1) if selling is not None else None,
        sellout_eta_seconds=sellout,
        server_time=now,
        turns_lapsed=lapsed,
        turns_reclaimed=reclaimed,
    )


def seat_gauges_collect() -> list[GaugeSample]:
    """Gauges for /metrics and New Relic (docs/observability.md): per event on
    sale (published, not yet started), its capacity, seats and places sold
    (paid order lines in MySQL: the oversell detector compares the two), seats
    held and live holds; and orders by state across all events."""
    samples: list[GaugeSample] = []
    now = datetime.now(tz=UTC)
    events = Event.objects.filter(
        status=Event.Status.PUBLISHED, onsale_at__lte=now, starts_at__gte=now
    ).order_by("pk")[:50]
    for event in events:
        seats = event_seat_counts_get(event=event)
        sold = event_sales_get(event=event).tickets_sold
        labels = {"event_id": event.pk}
        samples += [
            GaugeSample("onsale_event_capacity", seats.capacity, labels),
            GaugeSample("onsale_event_seats_sold", sold, labels),
            GaugeSample("onsale_seats_held", seats.seats_held, labels),
            GaugeSample("onsale_holds_active", seats.holds_active, labels),
        ]
    for state, count in order_counts_by_state().items():
        samples.append(GaugeSample("onsale_orders", count, {"state": state}))
    return samples
