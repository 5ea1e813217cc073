"""An event's seat map written back in the full form that
`seatmaps.parse.seatmap_parse` reads, so an organizer edits the map the event
has, not an example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onsale.events.models import Event
from onsale.seatselection.models import PriceCategory, Seat, SeatMap, Section


@dataclass(frozen=True)
class SeatMapSource:
    """The event's current map in the full form (`document`), with what the
    editor says about it: `seat_count` reserved seats, `places` general-
    admission places, and `layout_version`."""

    document: dict[str, Any]
    seat_count: int
    places: int
    layout_version: int


def _number(value: float) -> int | float:
    # 3.0 -> 3, so the text reads as the organizer would write it.
    return int(value) if float(value).is_integer() else value


def seatmap_source_get(*, event: Event) -> SeatMapSource | None:
    """The event's seat map in the full form, or None before it has one.

    Loading the document again (`seatmaps.write.seatmap_replace`) gives the
    same seats (section, row, label, place, category), prices, colours,
    general-admission capacities, row ranks, accessibility flags and blocked
    seats. Sections and rows keep the order they were loaded in, so a map
    loaded in the full form also keeps its seat indexes; rows of one section
    sharing a label (two generators filling one section) are written as one
    row, which the full form requires.
    """
    seatmap = SeatMap.objects.filter(event=event).first()
    if seatmap is None:
        return None
    categories = list(PriceCategory.objects.filter(event=event).order_by("position"))
    code_of = {category.pk: category.code for category in categories}
    flags = [(int(choice.value), choice.label) for choice in Seat.Accessibility]
    sections = list(Section.objects.filter(event=event).order_by("position"))
    rows: dict[int, dict[str, dict[str, Any]]] = {s.pk: {} for s in sections}
    # Plain tuples, not model instances: a stadium has 50,000 seats.
    seats = (
        Seat.objects.filter(event=event)
        .order_by("index")
        .values_list(
            "section_id",
            "row_label",
            "row_rank",
            "label",
            "x",
            "y",
            "category_id",
            "accessibility",
            "blocked",
        )
    )
    for (
        section_id,
        row_label,
        row_rank,
        label,
        x,
        y,
        category_id,
        accessibility,
        blocked,
    ) in seats.iterator(chunk_size=5000):
        section_rows = rows[section_id]
        row = section_rows.get(row_label)
        if row is None:
            row = section_rows[row_label] = {
                "label": row_label,
                "rank": row_rank,
                "seats": [],
            }
        item: dict[str, Any] = {
            "label": label,
            "x": _number(x),
            "y": _number(y),
            "category": code_of[category_id],
        }
        if accessibility:
            item["accessibility"] = [
                name for value, name in flags if accessibility & value
            ]
        if blocked:
            item["blocked"] = True
        row["seats"].append(item)
    category_items: list[dict[str, Any]] = []
    for category in categories:
        entry: dict[str, Any] = {
            "code": category.code,
            "name": category.name,
            "price": str(category.price),
            "color": category.color,
        }
        if category.general_admission:
            entry.update(general_admission=True, capacity=category.capacity)
        category_items.append(entry)
    document: dict[str, Any] = {"categories": category_items}
    section_items = [
        {"name": section.name, "rows": list(rows[section.pk].values())}
        for section in sections
        if rows[section.pk]
    ]
    if section_items:
        document["sections"] = section_items
    return SeatMapSource(
        document=document,
        seat_count=seatmap.seat_count,
        places=sum(c.capacity or 0 for c in categories if c.general_admission),
        layout_version=seatmap.layout_version,
    )
