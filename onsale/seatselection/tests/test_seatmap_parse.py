"""Seat maps as organizers send them: the full and generator forms, and every
way a map can be refused."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from django.conf import settings

from onsale.seatselection import selectors
from onsale.seatselection.exceptions import SeatMapInvalid
from onsale.seatselection.models import PriceCategory, Seat, SeatMap
from onsale.seatselection.seatmaps.parse import seatmap_parse
from onsale.testutils.seats import FULL_MAP, SMALL_MAP, seatmap_counts, seatmap_url

pytestmark = pytest.mark.django_db


def test_full_form_is_loaded_as_sent(organizer_client, event):
    response = organizer_client.put(seatmap_url(event), FULL_MAP, format="json")

    assert response.status_code == 200
    assert response.json()["seat_count"] == 5
    seats = list(Seat.objects.filter(event=event).order_by("index"))
    assert [(s.row_label, s.label, s.index, s.position) for s in seats] == [
        ("A", "1", 0, 0),
        ("A", "2", 1, 1),
        ("A", "3", 2, 2),
        ("B", "1", 3, 0),
        ("B", "2", 4, 1),
    ]
    assert seats[0].accessibility == (
        Seat.Accessibility.WHEELCHAIR | Seat.Accessibility.COMPANION
    )
    assert [s.blocked for s in seats] == [False, False, True, False, False]
    assert (seats[1].x, seats[3].y, seats[3].row_rank) == (1.5, 2.0, 5)
    prices = dict(
        PriceCategory.objects.filter(event=event).values_list("code", "price")
    )
    assert {code: str(price) for code, price in prices.items()} == {
        "VIP": "120.00",
        "STD": "45.50",
    }


def test_generator_form_builds_rows_and_labels(organizer_client, event):
    data = {
        "categories": [{"code": "A", "price": "10"}, {"code": "B", "price": "5"}],
        "generate": [
            {"section": "North", "rows": 2, "seats_per_row": 3, "category": "A"},
            {
                "section": "North",
                "rows": 1,
                "seats_per_row": 3,
                "category": "B",
                "first_row": 27,
                "first_seat": 101,
            },
            {
                "section": "South",
                "rows": 1,
                "seats_per_row": 2,
                "category": "B",
                "row_labels": "numbers",
                "origin": {"x": 100, "y": 50},
                "spacing": {"x": 2, "y": 3},
            },
        ],
    }

    response = organizer_client.put(seatmap_url(event), data, format="json")

    assert response.status_code == 200
    rows = list(
        Seat.objects.filter(event=event)
        .order_by("index")
        .values_list("section__name", "row_label", "label", "x", "y", "row_rank")
    )
    assert rows == [
        ("North", "A", "1", 0.0, 0.0, 0),
        ("North", "A", "2", 1.0, 0.0, 0),
        ("North", "A", "3", 2.0, 0.0, 0),
        ("North", "B", "1", 0.0, 1.0, 1),
        ("North", "B", "2", 1.0, 1.0, 1),
        ("North", "B", "3", 2.0, 1.0, 1),
        ("North", "AA", "101", 0.0, 3.0, 26),
        ("North", "AA", "102", 1.0, 3.0, 26),
        ("North", "AA", "103", 2.0, 3.0, 26),
        ("South", "1", "1", 100.0, 50.0, 0),
        ("South", "1", "2", 102.0, 50.0, 0),
    ]


def test_general_admission_only_map(organizer_client, event):
    data = {
        "categories": [
            {
                "code": "FLOOR",
                "price": "35",
                "general_admission": True,
                "capacity": 5000,
            }
        ]
    }

    response = organizer_client.put(seatmap_url(event), data, format="json")

    assert response.status_code == 200
    assert response.json()["seat_count"] == 0
    category = PriceCategory.objects.get(event=event)
    assert (category.general_admission, category.capacity) == (True, 5000)


def _broken(mutate) -> dict[str, Any]:
    data = copy.deepcopy(FULL_MAP)
    mutate(data)
    return data


def _dup_seat(d):
    d["sections"][0]["rows"][0]["seats"].append(
        {"label": "2", "x": 9, "y": 9, "category": "VIP"}
    )


def _unknown_category(d):
    d["sections"][0]["rows"][1]["seats"][0]["category"] = "NOPE"


def _negative(d):
    d["categories"][1]["price"] = "-1.00"


def _too_precise(d):
    d["categories"][1]["price"] = "1.005"


def _ga_seat(d):
    d["categories"].append(
        {"code": "GA", "price": "5", "general_admission": True, "capacity": 10}
    )
    d["sections"][0]["rows"][0]["seats"][0]["category"] = "GA"


def _ga_without_capacity(d):
    d["categories"].append({"code": "GA", "price": "5", "general_admission": True})


def _dup_category(d):
    d["categories"].append({"code": "VIP", "price": "5"})


def _dup_section(d):
    d["sections"].append(copy.deepcopy(d["sections"][0]))


def _bad_coordinate(d):
    d["sections"][0]["rows"][0]["seats"][0]["x"] = "left"


def _unknown_field(d):
    d["sections"][0]["rows"][0]["seats"][0]["colour"] = "red"


def _bad_flag(d):
    d["sections"][0]["rows"][0]["seats"][0]["accessibility"] = ["jetpack"]


def _huge_generator(d):
    d["generate"] = [
        {"section": "Z", "rows": 2000, "seats_per_row": 2000, "category": "STD"}
    ]


def _empty(d):
    d.pop("sections")


@pytest.mark.parametrize(
    ("mutate", "code", "path"),
    [
        (_dup_seat, "seatmap_duplicate_seat", "sections[0].rows[0].seats[3]"),
        (
            _unknown_category,
            "seatmap_unknown_category",
            "sections[0].rows[1].seats[0].category",
        ),
        (_negative, "seatmap_negative_price", "categories[1].price"),
        (_too_precise, "seatmap_invalid_price", "categories[1].price"),
        (
            _ga_seat,
            "seatmap_general_admission_seat",
            "sections[0].rows[0].seats[0].category",
        ),
        (_ga_without_capacity, "seatmap_invalid", "categories[2].capacity"),
        (_dup_category, "seatmap_duplicate_category", "categories[2].code"),
        (_dup_section, "seatmap_duplicate_section", "sections[1].name"),
        (_bad_coordinate, "seatmap_invalid", "sections[0].rows[0].seats[0].x"),
        (_unknown_field, "seatmap_invalid", "sections[0].rows[0].seats[0]"),
        (_bad_flag, "seatmap_invalid", "sections[0].rows[0].seats[0].accessibility"),
        (_huge_generator, "seatmap_too_large", "generate[0]"),
        (_empty, "seatmap_empty", "map"),
    ],
)
def test_invalid_maps_are_422_and_change_nothing(
    organizer_client, seated_event, mutate, code, path
):
    before = seatmap_counts(seated_event)
    version = SeatMap.objects.get(event=seated_event).layout_version

    response = organizer_client.put(
        seatmap_url(seated_event), _broken(mutate), format="json"
    )

    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["extra"]["path"]) == (code, path)
    assert seatmap_counts(seated_event) == before
    assert SeatMap.objects.get(event=seated_event).layout_version == version


def test_map_over_the_seat_limit_is_refused(organizer_client, event, settings):
    settings.SEATMAP_MAX_SEATS = 20
    data = {
        "categories": [{"code": "A", "price": "1"}],
        "generate": [{"section": "S", "rows": 3, "seats_per_row": 7, "category": "A"}],
    }

    response = organizer_client.put(seatmap_url(event), data, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "seatmap_too_large"
    assert response.json()["extra"]["max_seats"] == 20
    assert seatmap_counts(event) == (0, 0, 0)


def test_stadium_of_50000_seats_loads_in_one_request(organizer_client, event):
    data = {
        "categories": [
            {"code": "P1", "price": "150"},
            {"code": "P2", "price": "90"},
            {"code": "P3", "price": "55"},
        ],
        "generate": [
            {
                "section": f"Block {block}",
                "rows": 50,
                "seats_per_row": 50,
                "category": ("P1", "P2", "P3")[block % 3],
                "origin": {"x": (block % 5) * 60, "y": (block // 5) * 60},
            }
            for block in range(20)
        ],
    }

    started = time.perf_counter()
    response = organizer_client.put(seatmap_url(event), data, format="json")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert response.json()["seat_count"] == 50_000
    assert Seat.objects.filter(event=event).count() == 50_000
    print(f"\n50,000-seat map loaded in {elapsed:.2f} s")
    snapshot = selectors.availability_snapshot(event_id=event.pk)
    assert len(snapshot.as_document()["unavailable"]) == 8336  # base64 of 6,250 bytes


def test_a_full_map_of_20000_seats_over_a_megabyte_loads_in_one_request(
    organizer_client, event, api_client
):
    # A venue written out seat by seat, as an organizer's export makes it:
    # about 1.3 MB of JSON, over the 1 MiB that other requests may send.
    data = {
        "categories": [{"code": "STD", "price": "45.50"}],
        "sections": [
            {
                "name": f"Block {block}",
                "rows": [
                    {
                        "label": f"R{row}",
                        "seats": [
                            {"label": str(n), "x": n, "y": row, "category": "STD"}
                            for n in range(1, 51)
                        ],
                    }
                    for row in range(40)
                ],
            }
            for block in range(10)
        ],
    }
    body = json.dumps(data)
    assert len(body) > settings.MAX_REQUEST_BODY_BYTES

    response = organizer_client.put(
        seatmap_url(event), body, content_type="application/json"
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["seat_count"] == 20_000
    # elsewhere the usual limit holds
    refused = api_client.post(
        "/api/v1/auth/login", body, content_type="application/json"
    )
    assert refused.status_code == 413
    assert refused.json()["code"] == "request_too_large"


def test_seatmap_parse_checks_a_map_without_writing_it():
    spec = seatmap_parse(data=SMALL_MAP)

    assert [category.code for category in spec.categories] == ["A", "B", "GA"]
    assert spec.sections == ["Stalls", "Balcony"]
    assert len(spec.seats) == 80
    with pytest.raises(SeatMapInvalid):
        seatmap_parse(data={"categories": "none"})
    assert SeatMap.objects.count() == 0
