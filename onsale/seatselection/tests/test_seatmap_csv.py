"""Seat maps as CSV: converted to the full form, then loaded by the same rules."""

from __future__ import annotations

import pytest

from onsale.seatselection.exceptions import SeatMapInvalid
from onsale.seatselection.models import Seat
from onsale.seatselection.seatmaps.csv import (
    seatmap_csv_convert,
    seatmap_replace_from_csv,
)

pytestmark = pytest.mark.django_db

CSV_MAP = (
    "section,row,seat,category,price,blocked\n"
    "Stalls,A,1,A,50.00,\n"
    "Stalls,A,2,A,50.00,\n"
    "Balcony,A,1,B,30.50,yes\n"
)


def test_seatmap_csv_convert_gives_the_full_form():
    converted = seatmap_csv_convert(text=CSV_MAP)

    data = converted.data
    assert [category["code"] for category in data["categories"]] == ["A", "B"]
    assert [section["name"] for section in data["sections"]] == ["Stalls", "Balcony"]
    with pytest.raises(SeatMapInvalid) as refused:
        seatmap_csv_convert(text="section,row\nStalls,A\n")
    assert refused.value.code == "seatmap_csv_invalid"


def test_seatmap_replace_from_csv_loads_the_seats(event, organizer):
    seatmap = seatmap_replace_from_csv(event=event, text=CSV_MAP, actor=organizer)

    assert seatmap.seat_count == 3
    assert Seat.objects.filter(event=event, blocked=True).count() == 1
