"""The organizer console API: scoping, audit log, CSV seat maps, sales CSV,
live numbers and live control of the waiting room."""

from __future__ import annotations

import csv
import io
import math
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.events import services as event_services
from onsale.events.models import Event
from onsale.orders.models import Order, OrderLine
from onsale.seatselection.models import PriceCategory, Seat, SeatMap
from onsale.testutils.factories import EventFactory, OrganizerFactory
from onsale.testutils.seats import SMALL_MAP
from onsale.testutils.timing import scaled
from onsale.usermgmt.models import AuditEntry
from onsale.waitingroom import selectors as waitingroom_selectors
from onsale.waitingroom.admission import waitingroom_config_ensure
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.services import queue_join

ORGANIZER_PATHS = [
    ("get", "audit"),
    ("get", "live"),
    ("get", "sales.csv"),
    ("put", "seatmap.csv"),
    ("get", ""),
    ("patch", ""),
    ("put", "seatmap"),
    ("get", "seatmap"),
    ("post", "seatmap/blocked"),
    ("get", "waitingroom"),
    ("patch", "waitingroom"),
]

CSV_MAP = (
    "section,row,seat,category,price,blocked\n"
    "Stalls,A,1,A,50.00,\n"
    "Stalls,A,2,A,50.00,\n"
    "Stalls,B,1,A,50.00,yes\n"
    "Balcony,A,1,B,30.50,no\n"
)


def _url(event_id: int, suffix: str) -> str:
    base = f"/api/v1/organizer/events/{event_id}"
    return f"{base}/{suffix}" if suffix else base


def _call(client: APIClient, method: str, url: str) -> Any:
    if url.endswith(".csv") and method == "put":
        return client.put(url, CSV_MAP, content_type="text/csv")
    return getattr(client, method)(url, {}, format="json")


@pytest.fixture(autouse=True)
def _no_status_memo(settings: Any) -> None:
    settings.WAITINGROOM_STATUS_MEMO_MS = 0
    settings.WAITINGROOM_JOIN_LIMIT_PER_IP = 100_000
    waitingroom_selectors._memo.clear()


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "suffix"), ORGANIZER_PATHS)
def test_organizer_endpoints_refuse_fans_and_other_organizations(
    fan_client, organizer_client, method, suffix
):
    other = EventFactory()  # another organization's
    before = (SeatMap.objects.count(), AuditEntry.objects.count())
    assert _call(fan_client, method, _url(other.pk, suffix)).status_code == 403
    response = _call(organizer_client, method, _url(other.pk, suffix))
    assert response.status_code == 404
    assert response.json()["code"] == "event_not_found"
    assert (SeatMap.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.django_db
def test_every_organizer_change_is_audited(
    organizer, organizer_client, django_capture_on_commit_callbacks
):
    # create, seat map, block, edit, waiting room, publish: one entry each
    response = organizer_client.post(
        "/api/v1/organizer/events",
        {
            "name": "Gala",
            "venue_name": "Hall",
            "starts_at": (timezone.now() + timedelta(days=30)).isoformat(),
            "onsale_at": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    event_id = response.json()["id"]
    assert (
        organizer_client.put(
            _url(event_id, "seatmap"), SMALL_MAP, format="json"
        ).status_code
        == 200
    )
    seat = Seat.objects.filter(event_id=event_id).order_by("index").first()
    assert seat is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            organizer_client.post(
                _url(event_id, "seatmap/blocked"),
                {"seat_ids": [seat.pk], "blocked": True},
                format="json",
            ).status_code
            == 200
        )
    assert (
        organizer_client.patch(
            _url(event_id, ""), {"name": "Gala night"}, format="json"
        ).status_code
        == 200
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.patch(
            _url(event_id, "waitingroom"), {"rate_per_minute": 120}, format="json"
        )
    assert response.status_code == 200
    assert (
        organizer_client.patch(
            _url(event_id, ""), {"status": "published"}, format="json"
        ).status_code
        == 200
    )

    response = organizer_client.get(_url(event_id, "audit"))
    assert response.status_code == 200
    entries = response.json()["results"]
    assert [entry["action"] for entry in entries] == [
        "event.publish",
        "waitingroom.update",
        "event.update",
        "seats.block",
        "seatmap.replace",
        "event.create",
    ]
    assert {entry["actor_email"] for entry in entries} == {organizer.email}
    assert entries[0]["before"] == {"status": "draft"}
    assert entries[0]["after"] == {"status": "published"}
    assert entries[2]["before"] == {"name": "Gala"}
    assert entries[2]["after"] == {"name": "Gala night"}
    assert entries[1]["after"] == {"rate_per_minute": 120}
    assert entries[3]["after"]["seat_ids"] == [seat.pk]
    assert entries[4]["after"]["seat_count"] == 80
    assert entries[5]["after"]["name"] == "Gala"


@pytest.mark.django_db
def test_a_refused_change_writes_no_audit_entry(organizer_client, event):
    response = organizer_client.patch(
        _url(event.pk, "waitingroom"),
        {"prequeue_opens_at": (event.onsale_at + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 422
    response = organizer_client.patch(
        _url(event.pk, ""), {"status": "draft"}, format="json"
    )
    assert response.status_code == 409
    assert AuditEntry.objects.filter(event_id=event.pk).count() == 0


@pytest.mark.django_db
def test_csv_seat_map_is_loaded(organizer_client, event):
    event.status = Event.Status.DRAFT
    event.save()
    response = organizer_client.put(
        _url(event.pk, "seatmap.csv"), CSV_MAP, content_type="text/csv"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["seat_count"] == 4
    seats = list(
        Seat.objects.filter(event=event)
        .order_by("index")
        .values_list("section__name", "row_label", "label", "category__code", "blocked")
    )
    assert seats == [
        ("Stalls", "A", "1", "A", False),
        ("Stalls", "A", "2", "A", False),
        ("Stalls", "B", "1", "A", True),
        ("Balcony", "A", "1", "B", False),
    ]
    prices = dict(
        PriceCategory.objects.filter(event=event).values_list("code", "price")
    )
    assert prices == {"A": Decimal("50.00"), "B": Decimal("30.50")}
    assert AuditEntry.objects.get(event_id=event.pk).action == "seatmap.replace"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "code", "row", "column"),
    [
        ("section,row,seat,category\nS,A,1,A\n", "seatmap_csv_invalid", 1, "price"),
        (
            "section,row,seat,category,price,colour\nS,A,1,A,1,red\n",
            "seatmap_csv_invalid",
            1,
            "colour",
        ),
        (
            "section,row,seat,category,price\nS,A,1,A,10\nS,A,2,A,11\n",
            "seatmap_csv_invalid",
            3,
            "price",
        ),
        (
            "section,row,seat,category,price\nS,A,1,A,10\nS,A,,A,10\n",
            "seatmap_csv_invalid",
            3,
            "seat",
        ),
        (
            "section,row,seat,category,price,x\nS,A,1,A,10,1\nS,A,2,A,10,abc\n",
            "seatmap_csv_invalid",
            3,
            "x",
        ),
        (
            "section,row,seat,category,price\nS,A,1,A,10\nS,B,1,A,10\nS,A,1,A,10\n",
            "seatmap_duplicate_seat",
            4,
            "seat",
        ),
        (
            "section,row,seat,category,price\nS,A,1,A,10\nS,A,2,B,-3\n",
            "seatmap_negative_price",
            3,
            "price",
        ),
        (
            "section,row,seat,category,price,accessibility\nS,A,1,A,1,wheelchair|x\n",
            "seatmap_invalid",
            2,
            "accessibility",
        ),
        ("section,row,seat,category,price\nS,A,1,A\n", "seatmap_csv_invalid", 2, None),
    ],
)
def test_invalid_csv_is_refused_naming_row_and_column_and_saves_nothing(
    organizer_client, seated_event, text, code, row, column
):
    seatmap = SeatMap.objects.get(event=seated_event)
    audited = AuditEntry.objects.count()
    seats_before = list(
        Seat.objects.filter(event=seated_event).values_list("pk", "label", "blocked")
    )
    response = organizer_client.put(
        _url(seated_event.pk, "seatmap.csv"), text, content_type="text/csv"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == code
    assert (body["extra"]["row"], body["extra"]["column"]) == (row, column)
    assert f"line {row}" in body["message"]
    assert SeatMap.objects.get(event=seated_event).layout_version == (
        seatmap.layout_version
    )
    assert (
        list(
            Seat.objects.filter(event=seated_event).values_list(
                "pk", "label", "blocked"
            )
        )
        == seats_before
    )
    assert AuditEntry.objects.count() == audited


@pytest.mark.django_db
def test_sales_csv_sums_to_the_orders_table(organizer_client, seated_event, fan):
    categories = {c.code: c for c in PriceCategory.objects.filter(event=seated_event)}
    plan = [
        (Order.State.PAID, ["A", "A", "B"]),
        (Order.State.PAID, ["GA"]),
        (Order.State.REFUNDED, ["B", "B"]),
        (Order.State.PENDING, ["A"]),
        (Order.State.FAILED, ["A"]),
    ]
    for state, codes in plan:
        order = Order.objects.create(
            user=fan,
            event=seated_event,
            state=state,
            currency="EUR",
            total=sum(categories[c].price for c in codes),
            hold_id=1,
            buyer_name="Fan",
            buyer_email="fan@example.test",
            expires_at=timezone.now() + timedelta(minutes=10),
        )
        for number, code in enumerate(codes):
            OrderLine.objects.create(
                order=order,
                category=categories[code],
                category_name=categories[code].name,
                seat_label=f"{code}-{number}",
                price=categories[code].price,
            )
    response = organizer_client.get(_url(seated_event.pk, "sales.csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    lines, total = rows[:-1], rows[-1]
    paid = Order.objects.filter(event=seated_event, state=Order.State.PAID)
    paid_lines = OrderLine.objects.filter(order__in=paid)
    assert total["category"] == "TOTAL"
    assert int(total["tickets_sold"]) == paid_lines.count() == 4
    assert Decimal(total["revenue"]) == sum(o.total for o in paid) == Decimal("155.50")
    assert sum(int(line["tickets_sold"]) for line in lines) == 4
    assert sum(Decimal(line["revenue"]) for line in lines) == Decimal("155.50")
    assert Decimal(total["refunded"]) == Decimal("61.00")
    assert {line["category"]: int(line["tickets_sold"]) for line in lines} == {
        "Stalls": 2,
        "Balcony": 1,
        "Standing": 1,
    }


def _open_room(event: Event, **fields: Any) -> WaitingRoomConfig:
    config = waitingroom_config_ensure(event_id=event.pk)
    config.prequeue_opens_at = timezone.now() - timedelta(hours=1)
    config.onsale_at = timezone.now() - timedelta(minutes=1)
    config.state = WaitingRoomConfig.State.OPEN
    for name, value in fields.items():
        setattr(config, name, value)
    config.version += 1
    config.save()
    from onsale.waitingroom.admission import waitingroom_live_config_push

    waitingroom_live_config_push(config=config)
    return config


def _fill(event_id: int, count: int) -> None:
    for user_id in range(1, count + 1):
        queue_join(event_id=event_id, user_id=user_id, ip="127.0.0.1")


def _live(client: APIClient, event_id: int) -> dict[str, Any]:
    response = client.get(_url(event_id, "live"))
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.django_db
def test_live_rate_change_is_reflected_by_admission_within_a_second(
    organizer_client, seated_event, django_capture_on_commit_callbacks
):
    _open_room(seated_event, rate_per_minute=1, burst=1, max_active=10_000)
    _fill(seated_event.pk, 300)
    live = _live(organizer_client, seated_event.pk)
    assert (live["serving"], live["queue_length"], live["rate_per_minute"]) == (
        1,
        299,
        1,
    )
    # when the organizer raises rate and burst
    requested = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.patch(
            _url(seated_event.pk, "waitingroom"),
            {"rate_per_minute": 60_000, "burst": 200},
            format="json",
        )
    assert response.status_code == 200
    changed = time.monotonic()
    # then admission follows within a second (of an idle machine; a busy one
    # takes longer to answer the polls, yet far less than the old rate's
    # minute)
    budget = scaled(1.0)
    while True:
        live = _live(organizer_client, seated_event.pk)
        if live["serving"] > 1 or time.monotonic() - changed > budget:
            break
        time.sleep(0.05)
    polled = time.monotonic()
    assert polled - changed <= budget
    assert live["rate_per_minute"] == 60_000
    assert live["burst"] == 200
    # (at the old 1 a minute, nobody more would be admitted for a minute)
    # and no more than the burst plus 1,000 a second since the change was
    # sent (on a busy machine, the polls may come a while later)
    assert 1 < live["serving"] <= 201 + math.ceil(1000 * (polled - requested))
    assert live["queue_length"] == 300 - live["serving"]
    assert live["active_shoppers"] == live["serving"]


@pytest.mark.django_db
def test_pause_stops_admission(
    organizer_client, seated_event, django_capture_on_commit_callbacks
):
    _open_room(seated_event, rate_per_minute=60_000, burst=5, max_active=10_000)
    _fill(seated_event.pk, 100)
    assert _live(organizer_client, seated_event.pk)["serving"] == 5
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.patch(
            _url(seated_event.pk, "waitingroom"), {"state": "paused"}, format="json"
        )
    assert response.status_code == 200
    time.sleep(0.3)  # 300 tokens' worth at this rate: none may be used
    live = _live(organizer_client, seated_event.pk)
    assert (live["state"], live["serving"], live["queue_length"]) == (
        "paused",
        5,
        95,
    )
    assert live["drain_eta_seconds"] is None
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.patch(
            _url(seated_event.pk, "waitingroom"), {"state": "open"}, format="json"
        )
    assert _live(organizer_client, seated_event.pk)["serving"] > 5
    actions = list(
        AuditEntry.objects.filter(event_id=seated_event.pk, action="waitingroom.update")
        .order_by("id")
        .values_list("after", flat=True)
    )
    assert actions == [{"state": "paused"}, {"state": "open"}]


@pytest.mark.django_db
def test_live_numbers_for_a_fresh_event(organizer_client, seated_event):
    live = _live(organizer_client, seated_event.pk)
    assert live["capacity"] == 80 + 100
    assert live["available"] == 180
    assert (live["holds"], live["tickets_sold"], live["revenue"]) == (0, 0, "0")
    assert live["queue_length"] == 0
    assert live["drain_eta_seconds"] is None


@pytest.mark.django_db
def test_other_organizer_of_the_same_organization_sees_the_log(organizer, event):
    event_services.event_update(event=event, name="Renamed", actor=organizer)
    colleague = OrganizerFactory(organization=organizer.organization)
    client = APIClient()
    client.force_authenticate(colleague)
    entries = client.get(_url(event.pk, "audit")).json()["results"]
    assert [(e["action"], e["after"]) for e in entries] == [
        ("event.update", {"name": "Renamed"})
    ]
