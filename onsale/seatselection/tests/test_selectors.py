"""Reads: the cacheable seat map document and the availability snapshot."""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal

import pytest

from onsale.seatselection import scripts, selectors
from onsale.seatselection.exceptions import HoldNotFound
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import SMALL_MAP, hold, seat_ids

pytestmark = pytest.mark.django_db


def _url(event):
    return f"/api/v1/organizer/events/{event.pk}/seatmap"


def test_public_map_document_is_compact_and_cacheable(api_client, seated_event):
    response = api_client.get(f"/api/v1/events/{seated_event.pk}/seats")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    body = response.json()
    assert body["seat_count"] == 80
    assert [c["code"] for c in body["categories"]] == ["A", "B", "GA"]
    assert body["categories"][1]["price"] == "30.50"
    first = body["seats"][0]
    assert first == [seat_ids(seated_event)[0], 0, "A", "1", 0, 0, 0, 0]
    again = api_client.get(
        f"/api/v1/events/{seated_event.pk}/seats",
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304


def test_public_map_document_is_gzipped_for_a_client_that_accepts_it(
    api_client, seated_event
):
    url = f"/api/v1/events/{seated_event.pk}/seats"
    plain = api_client.get(url)

    packed = api_client.get(url, HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")

    assert packed.status_code == 200
    assert packed["Content-Encoding"] == "gzip"
    # (the locale middleware adds Accept-Language to every answer)
    assert "Accept-Encoding" in [part.strip() for part in packed["Vary"].split(",")]
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 2
    # each encoding has its own ETag, and a 304 only for its own
    assert packed["ETag"] != plain["ETag"]
    assert plain.get("Content-Encoding") is None
    again = api_client.get(
        url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]
    )
    assert again.status_code == 304
    other = api_client.get(
        url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=plain["ETag"]
    )
    assert other.status_code == 200
    refused = api_client.get(url, HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert refused.get("Content-Encoding") is None
    assert refused.content == plain.content


def test_unpublished_event_map_is_404_for_fans(api_client, organizer_client, organizer):
    draft = EventFactory(organization=organizer.organization, status="draft")
    seatmap_replace(event=draft, data=SMALL_MAP)

    assert api_client.get(f"/api/v1/events/{draft.pk}/seats").status_code == 404
    assert organizer_client.get(_url(draft)).status_code == 200


@pytest.mark.django_db
def test_snapshot_is_a_cacheable_bitmap(api_client, seated_event):
    ids = seat_ids(seated_event)
    hold(seated_event.pk, 1, "s1", seat_ids=[ids[0], ids[9], ids[79]])
    hold(seated_event.pk, 2, "s2", category="GA", quantity=5)

    response = api_client.get(f"/api/v1/events/{seated_event.pk}/seats/availability")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=1"
    body = response.json()
    bitmap = base64.b64decode(body["unavailable"])
    assert len(bitmap) == 10  # 80 seats
    taken = {i for i in range(80) if bitmap[i >> 3] & (0x80 >> (i & 7))}
    assert taken == {0, 9, 79}
    assert body["general_admission"] == {"GA": 95}
    assert (body["seat_count"], body["layout_version"]) == (80, 1)
    assert body["version"] >= 2


@pytest.mark.django_db
def test_snapshot_of_an_unpublished_event_is_404(api_client):
    draft = EventFactory(status="draft")

    response = api_client.get(f"/api/v1/events/{draft.pk}/seats/availability")

    assert response.status_code == 404


def test_seatmap_document_get_lists_the_seats_in_index_order(seated_event):
    document = selectors.seatmap_document_get(event_id=seated_event.pk)

    body = json.loads(document.body)
    assert [seat[0] for seat in body["seats"]] == seat_ids(seated_event)


def _rows_map(rows: list[tuple[str, int, list[tuple[float, float]]]]) -> dict:
    """A one-section map in the full form: (label, rank, [(x, y), ...])."""
    return {
        "categories": [{"code": "A", "name": "Stalls", "price": "10.00"}],
        "sections": [
            {
                "name": "Floor",
                "rows": [
                    {
                        "label": label,
                        "rank": rank,
                        "seats": [
                            {"label": str(n + 1), "x": x, "y": y, "category": "A"}
                            for n, (x, y) in enumerate(points)
                        ],
                    }
                    for label, rank, points in rows
                ],
            }
        ],
    }


def test_seatmap_document_get_puts_the_stage_above_front_rows_at_the_top(
    seated_event,
):
    body = json.loads(selectors.seatmap_document_get(event_id=seated_event.pk).body)

    # SMALL_MAP: 10 seats a row from x 0 to 9, its front rows at the top: a
    # box half the venue wide, centred on the front rows, two units above
    assert body["stage"] == {
        "label": "Stage",
        "side": "top",
        "x": 2.25,
        "y": -4,
        "w": 4.5,
        "h": 2,
    }
    # the fields that were there before are unchanged
    assert body["bounds"] == {"min_x": 0.0, "min_y": 0.0, "max_x": 9.0, "max_y": 8.0}


def test_seatmap_document_get_puts_the_stage_on_the_side_of_the_best_rows():
    bottom = EventFactory()
    seatmap_replace(
        event=bottom,
        data=_rows_map(
            [
                ("C", 2, [(0, 0), (10, 0)]),
                ("B", 1, [(0, 5), (10, 5)]),
                ("A", 0, [(0, 10), (10, 10)]),
            ]
        ),
    )
    right = EventFactory()
    seatmap_replace(
        event=right,
        data=_rows_map([("B", 1, [(0, 0), (0, 10)]), ("A", 0, [(20, 0), (20, 10)])]),
    )

    below = json.loads(selectors.seatmap_document_get(event_id=bottom.pk).body)
    beside = json.loads(selectors.seatmap_document_get(event_id=right.pk).body)

    assert below["stage"] == {
        "label": "Stage",
        "side": "bottom",
        "x": 2.5,
        "y": 12,
        "w": 5,
        "h": 2,
    }
    assert beside["stage"] == {
        "label": "Stage",
        "side": "right",
        "x": 22,
        "y": 2.5,
        "w": 2,
        "h": 5,
    }


def test_hold_get_and_hold_find_return_only_the_owners_hold(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])

    found = selectors.hold_get(
        event_id=seated_event.pk, user_id=fan.pk, hold_id=held.hold_id
    )
    assert found.seat_ids == tuple(ids[:2])
    assert selectors.hold_find(
        event_id=seated_event.pk, user_id=fan.pk, session_id="s1"
    )
    assert (
        selectors.hold_find(
            event_id=seated_event.pk, user_id=fan.pk + 1, hold_id=held.hold_id
        )
        is None
    )
    with pytest.raises(HoldNotFound):
        selectors.hold_get(
            event_id=seated_event.pk, user_id=fan.pk + 1, hold_id=held.hold_id
        )


def test_hold_from_stored_prices_the_stored_seats(seated_event, fan):
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])
    stored = scripts.read_script(
        event_id=seated_event.pk, user_id=fan.pk, hold_id=held.hold_id, session_id=""
    )
    assert stored is not None

    layout = selectors.hold_layout_get(stored=stored)
    assert layout is not None
    rebuilt = selectors.hold_from_stored(layout=layout, stored=stored)

    assert rebuilt.seat_ids == tuple(ids[:2])
    assert rebuilt.total == Decimal("100.00")


def test_hold_count_get_and_availability_stream_position(seated_event, fan):
    assert selectors.hold_count_get(event_id=seated_event.pk) == 0
    ids = seat_ids(seated_event)
    hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:1])
    before, generation = selectors.availability_stream_position(
        event_id=seated_event.pk
    )

    hold(seated_event.pk, fan.pk + 1, "s2", seat_ids=ids[1:2])

    assert selectors.hold_count_get(event_id=seated_event.pk) == 2
    after, same_generation = selectors.availability_stream_position(
        event_id=seated_event.pk
    )
    assert after > before
    assert generation
    assert same_generation == generation


@pytest.mark.django_db
def test_price_level_list_lists_the_categories_in_the_organizers_order(
    django_assert_num_queries,
):
    event = EventFactory()
    seatmap_replace(event=event, data=SMALL_MAP)
    other = EventFactory()
    seatmap_replace(
        event=other,
        data={
            "categories": [{"code": "X", "name": "Other", "price": "1"}],
            "generate": [
                {"section": "S", "rows": 1, "seats_per_row": 1, "category": "X"}
            ],
        },
    )

    with django_assert_num_queries(1):
        levels = selectors.price_level_list(event_id=event.pk)

    assert levels == [
        selectors.PriceLevel(
            code="A",
            name="Stalls",
            price=Decimal("50.00"),
            general_admission=False,
            capacity=None,
        ),
        selectors.PriceLevel(
            code="B",
            name="Balcony",
            price=Decimal("30.50"),
            general_admission=False,
            capacity=None,
        ),
        selectors.PriceLevel(
            code="GA",
            name="Standing",
            price=Decimal("25.00"),
            general_admission=True,
            capacity=100,
        ),
    ]
    assert selectors.price_level_list(event_id=EventFactory().pk) == []


def test_event_sold_out_get_counts_seats_and_places_free_to_hold():
    # Given an event without a map, then with two seats and two standing places
    event = EventFactory()
    assert selectors.event_sold_out_get(event_id=event.pk) is False
    seatmap_replace(
        event=event,
        data={
            "categories": [
                {"code": "A", "name": "Stalls", "price": "10"},
                {
                    "code": "GA",
                    "name": "Standing",
                    "price": "5",
                    "general_admission": True,
                    "capacity": 2,
                },
            ],
            "generate": [
                {"section": "S", "rows": 1, "seats_per_row": 2, "category": "A"}
            ],
        },
    )
    seats = seat_ids(event)
    # When the seats are held, standing places are still left
    hold(event.pk, 7, "s-7", seat_ids=seats)
    assert selectors.event_sold_out_get(event_id=event.pk) is False
    # Then with the standing places held too, nothing is free to hold
    hold(event.pk, 8, "s-8", category="GA", quantity=2)
    assert selectors.event_sold_out_get(event_id=event.pk) is True
