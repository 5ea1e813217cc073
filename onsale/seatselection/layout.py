"""The seat layout as the hold logic needs it (read from MySQL, cached per
process and checked against Redis), and the MySQL truth of what was sold."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from onsale.platform.redis import redis_client
from onsale.seatselection.exceptions import SeatMapNotFound
from onsale.seatselection.keys import seat_key
from onsale.seatselection.models import PriceCategory, Seat, SeatMap, SeatSale, Section

# --- Seat layout (the map as the hold logic needs it) ------------------------


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    price: Decimal
    color: str
    position: int
    general_admission: bool
    capacity: int | None


@dataclass(frozen=True)
class SeatInfo:
    seat_id: int
    index: int
    section: str
    row: str
    label: str
    category: str


@dataclass
class SeatLayout:
    """An event's seat map in memory, keyed by its layout id
    (`<layout_version>:<layout_token>`).

    `rows[code]` lists that category's rows best first (row rank, then section
    order, then row order); each row is a list of (position, seat index) in
    seat order, so equal-row seats with consecutive positions are adjacent.
    """

    event_id: int
    layout_version: int
    layout_token: str
    blocked_version: int
    seat_count: int
    currency: str
    categories: dict[str, CategoryInfo]
    seat_ids: list[int]
    seat_category: list[str]
    seat_section: list[str]
    seat_row: list[str]
    seat_label: list[str]
    index_by_seat_id: dict[int, int]
    rows: dict[str, list[list[tuple[int, int]]]] = field(default_factory=dict)

    @property
    def layout_id(self) -> str:
        return f"{self.layout_version}:{self.layout_token}"

    def seat(self, index: int) -> SeatInfo:
        return SeatInfo(
            seat_id=self.seat_ids[index],
            index=index,
            section=self.seat_section[index],
            row=self.seat_row[index],
            label=self.seat_label[index],
            category=self.seat_category[index],
        )


_layouts: dict[int, SeatLayout] = {}
_layouts_lock = threading.Lock()


def _layout_id_key(event_id: int) -> str:
    # Outside the seat-state keys on purpose: losing it only costs a MySQL read.
    return seat_key(event_id, "layout")


# How long Redis vouches for the layout id before MySQL is asked again. A
# replacement updates it at once (after its commit); the expiry bounds how
# long processes could go on with an old layout if that update was lost.
LAYOUT_ID_SECONDS = 10


def seatmap_layout_id(*, event_id: int, fresh: bool = False) -> str:
    """The event's current layout id, `<layout_version>:<layout_token>`: from
    Redis (set by every replace, expiring after a few seconds), else from
    MySQL (`fresh=True`: always). `SeatMapNotFound` if there is no map."""
    client = redis_client()
    if not fresh:
        raw = client.get(_layout_id_key(event_id))
        if raw is not None:
            return str(raw)
    row = (
        SeatMap.objects.filter(event_id=event_id)
        .values_list("layout_version", "layout_token")
        .first()
    )
    if row is None:
        raise SeatMapNotFound()
    layout_id = f"{row[0]}:{row[1]}"
    client.set(_layout_id_key(event_id), layout_id, ex=LAYOUT_ID_SECONDS)
    return layout_id


# A process trusts its copy of a layout this long before asking Redis which
# layout is current. Staleness is safe: the hold and snapshot scripts compare
# the caller's layout id with the one the state was built for and refuse a
# mismatch, and a stored hold names its layout (see `hold_layout_get`).
LAYOUT_RECHECK_SECONDS = 2.0
_layout_checked: dict[int, float] = {}


def seat_layout_get(*, event_id: int, fresh: bool = False) -> SeatLayout:
    """The event's seat layout, from this process's memory while its layout id
    is current, else loaded from MySQL. `fresh=True` asks MySQL which layout
    is current (after a script found the state built for another one).

    The memory copy is a cache, never a source of truth.
    """
    layout = _layouts.get(event_id)
    now = time.monotonic()
    if (
        not fresh
        and layout is not None
        and now - _layout_checked.get(event_id, 0.0) < LAYOUT_RECHECK_SECONDS
    ):
        return layout
    layout_id = seatmap_layout_id(event_id=event_id, fresh=fresh)
    if layout is None or layout.layout_id != layout_id:
        layout = _seat_layout_load(event_id=event_id)
        with _layouts_lock:
            _layouts[event_id] = layout
    _layout_checked[event_id] = now
    return layout


def _seat_layout_load(*, event_id: int) -> SeatLayout:
    seatmap = SeatMap.objects.select_related("event").filter(event_id=event_id).first()
    if seatmap is None:
        raise SeatMapNotFound()
    categories = {
        category.code: CategoryInfo(
            code=category.code,
            name=category.name,
            price=category.price,
            color=category.color,
            position=category.position,
            general_admission=category.general_admission,
            capacity=category.capacity,
        )
        for category in PriceCategory.objects.filter(event_id=event_id).order_by(
            "position"
        )
    }
    code_by_category_pk = dict(
        PriceCategory.objects.filter(event_id=event_id).values_list("pk", "code")
    )
    sections = dict(Section.objects.filter(event_id=event_id).values_list("pk", "name"))
    section_position = dict(
        Section.objects.filter(event_id=event_id).values_list("pk", "position")
    )
    count = seatmap.seat_count
    seat_ids = [0] * count
    seat_category = [""] * count
    seat_section = [""] * count
    seat_row = [""] * count
    seat_label = [""] * count
    row_members: dict[tuple[str, int, int, int], list[tuple[int, int]]] = {}
    rows_query = Seat.objects.filter(event_id=event_id).values_list(
        "pk",
        "index",
        "section_id",
        "category_id",
        "row_label",
        "row_rank",
        "row_order",
        "position",
        "label",
    )
    for (
        pk,
        index,
        section_pk,
        category_pk,
        row,
        rank,
        order,
        position,
        label,
    ) in rows_query.iterator(chunk_size=5000):
        code = code_by_category_pk[category_pk]
        seat_ids[index] = pk
        seat_category[index] = code
        seat_section[index] = sections[section_pk]
        seat_row[index] = row
        seat_label[index] = label
        row_key = (code, rank, section_position[section_pk], order)
        row_members.setdefault(row_key, []).append((position, index))
    rows: dict[str, list[list[tuple[int, int]]]] = {code: [] for code in categories}
    for row_key in sorted(row_members):
        rows[row_key[0]].append(sorted(row_members[row_key]))
    return SeatLayout(
        event_id=event_id,
        layout_version=seatmap.layout_version,
        layout_token=str(seatmap.layout_token),
        blocked_version=seatmap.blocked_version,
        seat_count=count,
        currency=seatmap.event.currency,
        categories=categories,
        seat_ids=seat_ids,
        seat_category=seat_category,
        seat_section=seat_section,
        seat_row=seat_row,
        seat_label=seat_label,
        index_by_seat_id={pk: index for index, pk in enumerate(seat_ids)},
        rows=rows,
    )


# --- Sold seats (the MySQL truth) ---------------------------------------------


def sold_seat_ids(*, event_id: int) -> set[int]:
    """Ids of the event's sold seats, read from MySQL: the one source the Redis
    "sold" bitmap is rebuilt from.

    Today the truth is `SeatSale` (written by `sales.sale_record` in the
    checkout transaction). If checkout keeps its own ticket table with one
    UNIQUE row per (event, seat), this is the one function to point at it
    (return the union while both exist).
    """
    return set(
        SeatSale.objects.filter(event_id=event_id).values_list("seat_id", flat=True)
    )


def general_admission_sold(*, event_id: int) -> dict[str, int]:
    """Sold places per general-admission category (MySQL truth)."""
    return dict(
        PriceCategory.objects.filter(
            event_id=event_id, general_admission=True
        ).values_list("code", "ga_sold")
    )
