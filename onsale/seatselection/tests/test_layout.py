"""The seat layout as the hold logic reads it, and the MySQL truth of what
was sold."""

from __future__ import annotations

import pytest
from django.db import transaction

from onsale.seatselection import layout as seat_layout
from onsale.seatselection import sales as seat_sales
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import SeatMapNotFound
from onsale.seatselection.models import PriceCategory, SeatMap
from onsale.testutils.factories import EventFactory
from onsale.testutils.seats import hold, seat_ids

pytestmark = pytest.mark.django_db


def test_seatmap_layout_id_names_the_version_and_token(seated_event):
    seatmap = SeatMap.objects.get(event=seated_event)

    layout_id = seat_layout.seatmap_layout_id(event_id=seated_event.pk, fresh=True)

    assert layout_id == f"{seatmap.layout_version}:{seatmap.layout_token}"
    assert seat_layout.seatmap_layout_id(event_id=seated_event.pk) == layout_id
    with pytest.raises(SeatMapNotFound):
        seat_layout.seatmap_layout_id(event_id=EventFactory().pk, fresh=True)


def test_seat_layout_get_numbers_the_seats_in_index_order(seated_event):
    layout = seat_layout.seat_layout_get(event_id=seated_event.pk, fresh=True)

    ids = seat_ids(seated_event)
    assert layout.index_by_seat_id == {pk: index for index, pk in enumerate(ids)}
    assert layout.layout_id == seat_layout.seatmap_layout_id(
        event_id=seated_event.pk, fresh=True
    )


def test_sold_seat_ids_and_general_admission_sold_read_mysql(seated_event, fan):
    assert seat_layout.sold_seat_ids(event_id=seated_event.pk) == set()
    assert seat_layout.general_admission_sold(event_id=seated_event.pk) == {"GA": 0}
    ids = seat_ids(seated_event)
    held = hold(seated_event.pk, fan.pk, "s1", seat_ids=ids[:2])
    with transaction.atomic():
        seat_sales.sale_record(
            hold=seat_services.hold_confirm(
                event_id=seated_event.pk, hold_id=held.hold_id, user_id=fan.pk
            ),
            order_reference="o-1",
        )
    PriceCategory.objects.filter(event=seated_event, code="GA").update(ga_sold=3)

    assert seat_layout.sold_seat_ids(event_id=seated_event.pk) == set(ids[:2])
    assert seat_layout.general_admission_sold(event_id=seated_event.pk) == {"GA": 3}
