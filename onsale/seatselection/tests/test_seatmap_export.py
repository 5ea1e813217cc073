"""Seat maps written back in the full form (`seatmap_source_get`): loading
what it writes gives the event the same map."""

from __future__ import annotations

from typing import Any

import pytest

from onsale.seatselection.models import PriceCategory, Seat
from onsale.seatselection.seatmaps.export import seatmap_source_get
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import FULL_MAP, SMALL_MAP

pytestmark = pytest.mark.django_db


def _seats(event: Any) -> list[tuple[Any, ...]]:
    return list(
        Seat.objects.filter(event=event)
        .order_by("index")
        .values_list(
            "index",
            "section__name",
            "row_label",
            "row_rank",
            "position",
            "label",
            "x",
            "y",
            "category__code",
            "accessibility",
            "blocked",
        )
    )


def _categories(event: Any) -> list[tuple[Any, ...]]:
    return list(
        PriceCategory.objects.filter(event=event)
        .order_by("position")
        .values_list("code", "name", "price", "color", "general_admission", "capacity")
    )


def test_seatmap_source_get_is_none_before_a_map() -> None:
    assert seatmap_source_get(event=EventFactory()) is None


@pytest.mark.parametrize("data", [SMALL_MAP, FULL_MAP], ids=["compact", "full"])
def test_seatmap_source_get_loads_back_as_the_same_map(data: dict[str, Any]) -> None:
    # given an event whose map was loaded from `data`
    original = EventFactory()
    seatmap_replace(event=original, data=data)
    source = seatmap_source_get(event=original)
    assert source is not None
    # when its full form is loaded into another event
    copy = EventFactory()
    seatmap_replace(event=copy, data=source.document)
    # then both have the same seats, in the same order, and the same categories
    assert _seats(copy) == _seats(original)
    assert _categories(copy) == _categories(original)
    assert source.seat_count == len(_seats(original))
    assert source.layout_version == 1


def test_seatmap_source_get_writes_every_seat_field() -> None:
    event = EventFactory()
    seatmap_replace(event=event, data=FULL_MAP)
    source = seatmap_source_get(event=event)
    assert source is not None
    floor = source.document["sections"][0]
    assert floor["rows"][0]["seats"][0] == {
        "label": "1",
        "x": 0,
        "y": 0,
        "category": "VIP",
        "accessibility": ["wheelchair", "companion"],
    }
    assert floor["rows"][0]["seats"][2]["blocked"] is True
    assert floor["rows"][1]["rank"] == 5
    assert source.document["categories"][0] == {
        "code": "VIP",
        "name": "Front",
        "price": "120.00",
        "color": "#aa0000",  # stored lowercased
    }


def test_seatmap_source_get_counts_standing_places() -> None:
    event = EventFactory()
    seatmap_replace(event=event, data=SMALL_MAP)
    source = seatmap_source_get(event=event)
    assert source is not None
    assert (source.seat_count, source.places) == (80, 100)
    standing = source.document["categories"][2]
    assert (standing["general_admission"], standing["capacity"]) == (True, 100)


def test_seatmap_source_get_merges_rows_of_one_label_in_a_section() -> None:
    # two generators fill one section with rows labelled A and B each time,
    # the second block starting at seat 11 so no seat repeats
    data = {
        "categories": [
            {"code": "A", "name": "Front", "price": "10"},
            {"code": "B", "name": "Back", "price": "5"},
        ],
        "generate": [
            {"section": "Floor", "rows": 2, "seats_per_row": 3, "category": "A"},
            {
                "section": "Floor",
                "rows": 2,
                "seats_per_row": 3,
                "category": "B",
                "first_seat": 11,
                "origin": {"x": 10, "y": 0},
            },
        ],
    }
    event = EventFactory()
    seatmap_replace(event=event, data=data)
    source = seatmap_source_get(event=event)
    assert source is not None
    rows = source.document["sections"][0]["rows"]
    assert [row["label"] for row in rows] == ["A", "B"]
    assert [seat["label"] for seat in rows[0]["seats"]] == [
        "1",
        "2",
        "3",
        "11",
        "12",
        "13",
    ]
    copy = EventFactory()
    seatmap_replace(event=copy, data=source.document)
    assert sorted(
        Seat.objects.filter(event=copy).values_list(
            "row_label", "label", "category__code"
        )
    ) == sorted(
        Seat.objects.filter(event=event).values_list(
            "row_label", "label", "category__code"
        )
    )
