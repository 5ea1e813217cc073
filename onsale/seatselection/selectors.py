"""Reads of seat maps, availability and holds."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from onsale.events.models import Event
from onsale.platform.redis import redis_client
from onsale.seatselection import scripts
from onsale.seatselection.exceptions import HoldNotFound
from onsale.seatselection.keys import seat_key
from onsale.seatselection.layout import (
    SeatLayout,
    seat_layout_get,
)
from onsale.seatselection.models import PriceCategory, Seat, SeatMap, Section
from onsale.seatselection.seat_state import seat_state_ensure

# --- The seat map document (GET /seats) -------------------------------------


@dataclass(frozen=True)
class SeatMapDocument:
    """The JSON of an event's map, ready to send, and its version (the ETag).
    `body_gzip` is the same JSON gzip-compressed (a 50,000-seat map: about
    1.5 MB, a fifth of that compressed), for clients that accept it."""

    layout_version: int
    etag: str
    body: bytes
    body_gzip: bytes


def seatmap_document_get(*, event_id: int) -> SeatMapDocument:
    """The seat map as one compact JSON document, cached per layout version.

    Seats are arrays in index order (array position == seat index == bit in
    the availability bitmap): `[id, section, row, label, x, y, category,
    accessibility]` where section and category point into their lists. It
    holds no availability, so it changes only when the map is replaced.

    `stage` is where the page draws the stage (or field): see `_stage_place`.
    """
    layout = seat_layout_get(event_id=event_id)
    cache_key = f"seatmap-doc:{event_id}:{layout.layout_id}"
    bodies = cache.get(cache_key)
    if not isinstance(bodies, tuple):
        body = _seatmap_document_build(
            event_id=event_id, layout_version=layout.layout_version
        )
        # Compressed once per layout, not per request; mtime=0 keeps the
        # bytes the same wherever they are made.
        bodies = (body, gzip.compress(body, compresslevel=6, mtime=0))
        cache.set(cache_key, bodies, timeout=24 * 3600)
    return SeatMapDocument(
        layout_version=layout.layout_version,
        etag=f'"seatmap-{event_id}-{layout.layout_id}"',
        body=bodies[0],
        body_gzip=bodies[1],
    )


def _seatmap_document_build(*, event_id: int, layout_version: int) -> bytes:
    event = Event.objects.get(pk=event_id)
    categories = list(PriceCategory.objects.filter(event_id=event_id))
    category_slot = {category.pk: slot for slot, category in enumerate(categories)}
    sections = list(Section.objects.filter(event_id=event_id).order_by("position"))
    section_slot = {section.pk: slot for slot, section in enumerate(sections)}
    seats: list[list[Any]] = []
    min_x = min_y = float("inf")
    max_x = max_y = float("-inf")
    best_rank: int | None = None
    front: list[tuple[float, float]] = []
    sum_x = sum_y = 0.0
    for pk, section_pk, row, label, x, y, category_pk, flags, rank in (
        Seat.objects.filter(event_id=event_id)
        .order_by("index")
        .values_list(
            "pk",
            "section_id",
            "row_label",
            "label",
            "x",
            "y",
            "category_id",
            "accessibility",
            "row_rank",
        )
        .iterator(chunk_size=5000)
    ):
        min_x, max_x = min(min_x, x), max(max_x, x)
        min_y, max_y = min(min_y, y), max(max_y, y)
        sum_x, sum_y = sum_x + x, sum_y + y
        if best_rank is None or rank < best_rank:
            best_rank, front = rank, []
        if rank == best_rank:
            front.append((x, y))
        seats.append(
            [
                pk,
                section_slot[section_pk],
                row,
                label,
                _compact_number(x),
                _compact_number(y),
                category_slot[category_pk],
                flags,
            ]
        )
    document = {
        "event_id": event_id,
        "layout_version": layout_version,
        "currency": event.currency,
        "seat_count": len(seats),
        "categories": [
            {
                "code": category.code,
                "name": category.name,
                "price": str(category.price),
                "color": category.color,
                "general_admission": category.general_admission,
                "capacity": category.capacity,
            }
            for category in categories
        ],
        "sections": [section.name for section in sections],
        "accessibility_flags": {
            choice.label: int(choice.value) for choice in Seat.Accessibility
        },
        "bounds": (
            {"min_x": min_x, "min_y": min_y, "max_x": max_x, "max_y": max_y}
            if seats
            else {"min_x": 0, "min_y": 0, "max_x": 0, "max_y": 0}
        ),
        "stage": _stage_place(
            seats=len(seats),
            bounds=(min_x, min_y, max_x, max_y),
            centre=(sum_x / len(seats), sum_y / len(seats)) if seats else (0, 0),
            front=front,
        ),
        "seat_fields": [
            "id",
            "section",
            "row",
            "label",
            "x",
            "y",
            "category",
            "accessibility",
        ],
        "seats": seats,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _stage_place(
    *,
    seats: int,
    bounds: tuple[float, float, float, float],
    centre: tuple[float, float],
    front: list[tuple[float, float]],
) -> dict[str, Any] | None:
    """Where the stage is, in map units: a box beside the seats, on the side
    of the best-ranked rows (those face the stage), centred on them.

    The side is the one the front rows lie towards from the middle of all
    seats (top when they are level with it, as in a one-row map). None for a
    map without seats.
    """
    if not seats:
        return None
    min_x, min_y, max_x, max_y = bounds
    width, height = max(max_x - min_x, 1.0), max(max_y - min_y, 1.0)
    front_x = sum(x for x, _ in front) / len(front)
    front_y = sum(y for _, y in front) / len(front)
    towards_x, towards_y = front_x - centre[0], front_y - centre[1]
    if abs(towards_x) > abs(towards_y):
        # Left or right of the seats: as tall as half the venue.
        depth, span = max(width * 0.08, 2.0), height * 0.5
        x = min_x - 2.0 - depth if towards_x < 0 else max_x + 2.0
        y = min(max(front_y - span / 2, min_y), max_y - span)
        side, box = ("left" if towards_x < 0 else "right"), (x, y, depth, span)
    else:
        depth, span = max(height * 0.08, 2.0), width * 0.5
        below = towards_y > 0
        y = max_y + 2.0 if below else min_y - 2.0 - depth
        x = min(max(front_x - span / 2, min_x), max_x - span)
        side, box = ("bottom" if below else "top"), (x, y, span, depth)
    return {
        "label": "Stage",
        "side": side,
        "x": _compact_number(box[0]),
        "y": _compact_number(box[1]),
        "w": _compact_number(box[2]),
        "h": _compact_number(box[3]),
    }


def _compact_number(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


# --- Availability -------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilitySnapshot:
    """Which seats cannot be taken right now, and GA places left.

    `unavailable` is a bitmap of `seat_count` bits, most significant bit first
    (bit i = seat index i is sold, held or blocked). `version` rises with every
    change and is carried by every live event; `generation` changes when the
    state was rebuilt (versions of different generations do not compare).
    """

    event_id: int
    layout_version: int
    version: int
    generation: str
    seat_count: int
    unavailable: bytes
    general_admission: dict[str, int]
    server_time: datetime

    def is_unavailable(self, index: int) -> bool:
        return bool(self.unavailable[index >> 3] & (0x80 >> (index & 7)))

    def as_document(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "layout_version": self.layout_version,
            "version": self.version,
            "generation": self.generation,
            "seat_count": self.seat_count,
            "encoding": "bitmap-msb-base64",
            "unavailable": base64.b64encode(self.unavailable).decode(),
            "general_admission": self.general_admission,
            "server_time": self.server_time.isoformat(),
        }


def _bitmap_or(size: int, *bitmaps: bytes) -> bytes:
    """OR bitmaps of possibly different lengths into exactly `size` bytes (a
    Redis bitmap is only as long as its highest set bit)."""
    combined = 0
    for bitmap in bitmaps:
        combined |= int.from_bytes(bitmap[:size].ljust(size, b"\0"), "big")
    return combined.to_bytes(size, "big")


def availability_snapshot(*, event_id: int) -> AvailabilitySnapshot:
    """The event's availability, read atomically (after purging expired holds).

    If Redis lost the event's seat state, it is rebuilt from MySQL first (sold
    seats come from `sold_seat_ids`), so a snapshot never shows a sold seat as
    free.
    """
    for _ in range(3):
        layout = seat_layout_get(event_id=event_id)
        raw = scripts.snapshot_script(event_id=event_id, layout_id=layout.layout_id)
        if raw is not None:
            break
        seat_state_ensure(event_id=event_id)
    else:  # pragma: no cover - only if Redis keeps losing the keys
        raise RuntimeError("seat state could not be rebuilt")
    size = (layout.seat_count + 7) // 8
    unavailable = _bitmap_or(size, raw.sold, raw.held, raw.blocked)
    return AvailabilitySnapshot(
        event_id=event_id,
        layout_version=layout.layout_version,
        version=raw.version,
        generation=raw.generation,
        seat_count=layout.seat_count,
        unavailable=unavailable,
        general_admission={
            code: raw.general_admission.get(code, 0)
            for code, info in layout.categories.items()
            if info.general_admission
        },
        server_time=datetime.now(tz=UTC),
    )


def event_sold_out_get(*, event_id: int) -> bool:
    """True when nothing of the event is free to hold right now: every seat
    sold, held or blocked and no general-admission place left. An event
    without a seat map is not sold out (there is nothing to count yet). Held
    seats count as gone while held: a fan let in now could choose nothing."""
    if not SeatMap.objects.filter(event_id=event_id).exists():
        return False
    snapshot = availability_snapshot(event_id=event_id)
    unavailable = int.from_bytes(snapshot.unavailable, "big").bit_count()
    free_seats = snapshot.seat_count - unavailable
    return free_seats <= 0 and sum(snapshot.general_admission.values()) <= 0


def availability_stream_position(*, event_id: int) -> tuple[int, str]:
    """(version, generation) right now, for a live stream's first message."""
    version, generation = redis_client().mget(
        seat_key(event_id, "version"), seat_key(event_id, "gen")
    )
    return int(version or 0), str(generation or "")


# --- Holds --------------------------------------------------------------------


@dataclass(frozen=True)
class HoldLine:
    """One priced line of a hold: a seat, or a quantity of GA places."""

    category: str
    category_name: str
    unit_price: Decimal
    quantity: int
    seat_id: int | None = None
    section: str = ""
    row: str = ""
    label: str = ""


@dataclass(frozen=True)
class Hold:
    """An active hold. `hold_id` is the fencing token: it increases with every
    hold of the event, so a later hold on the same seat always has a larger id.
    """

    hold_id: int
    event_id: int
    user_id: int
    session_id: str
    seat_ids: tuple[int, ...]
    general_admission: dict[str, int]
    expires_at: datetime
    currency: str
    lines: tuple[HoldLine, ...]
    adjacent: bool | None = None
    replaced_hold_id: int | None = None
    version: int = 0
    seat_indexes: tuple[int, ...] = ()

    @property
    def total(self) -> Decimal:
        return sum(
            (line.unit_price * line.quantity for line in self.lines), Decimal("0")
        )


def hold_from_stored(
    *,
    layout: SeatLayout,
    stored: scripts.StoredHold,
    adjacent: bool | None = None,
    replaced_hold_id: int | None = None,
    version: int = 0,
) -> Hold:
    lines: list[HoldLine] = []
    for index in stored.seat_indexes:
        seat = layout.seat(index)
        category = layout.categories[seat.category]
        lines.append(
            HoldLine(
                category=category.code,
                category_name=category.name,
                unit_price=category.price,
                quantity=1,
                seat_id=seat.seat_id,
                section=seat.section,
                row=seat.row,
                label=seat.label,
            )
        )
    for code, quantity in sorted(stored.general_admission.items()):
        category = layout.categories[code]
        lines.append(
            HoldLine(
                category=code,
                category_name=category.name,
                unit_price=category.price,
                quantity=quantity,
            )
        )
    return Hold(
        hold_id=stored.hold_id,
        event_id=layout.event_id,
        user_id=stored.user_id,
        session_id=stored.session_id,
        seat_ids=tuple(layout.seat_ids[index] for index in stored.seat_indexes),
        general_admission=dict(stored.general_admission),
        expires_at=datetime.fromtimestamp(stored.expires_ms / 1000, tz=UTC),
        currency=layout.currency,
        lines=tuple(lines),
        adjacent=adjacent,
        replaced_hold_id=replaced_hold_id,
        version=version,
        seat_indexes=tuple(stored.seat_indexes),
    )


def hold_get(
    *,
    event_id: int,
    user_id: int,
    hold_id: int | None = None,
    session_id: str = "",
) -> Hold:
    """The user's active hold, by id or (without one) the session's current
    hold. `HoldNotFound` if it expired, was released or sold, or belongs to
    someone else (indistinguishable on purpose)."""
    hold = hold_find(
        event_id=event_id, user_id=user_id, hold_id=hold_id, session_id=session_id
    )
    if hold is None:
        raise HoldNotFound()
    return hold


def hold_find(
    *,
    event_id: int,
    user_id: int,
    hold_id: int | None = None,
    session_id: str = "",
) -> Hold | None:
    """`hold_get`, with None where it raises: for "does this session hold
    anything?", which every fresh seat page asks and where no is no error."""
    stored = scripts.read_script(
        event_id=event_id, user_id=user_id, hold_id=hold_id, session_id=session_id
    )
    layout = None if stored is None else hold_layout_get(stored=stored)
    if stored is None or layout is None:
        return None
    return hold_from_stored(layout=layout, stored=stored)


def hold_layout_get(*, stored: scripts.StoredHold) -> SeatLayout | None:
    """The layout a stored hold's seat indexes refer to, or None if that map
    has been replaced since (the hold is then void)."""
    layout = seat_layout_get(event_id=stored.event_id)
    if layout.layout_id != stored.layout_id:
        layout = seat_layout_get(event_id=stored.event_id, fresh=True)
    return layout if layout.layout_id == stored.layout_id else None


def hold_count_get(*, event_id: int) -> int:
    """How many holds of the event are alive (expired ones are purged by every
    hold, release and snapshot, and by the beat sweep)."""
    return int(redis_client().hlen(seat_key(event_id, "holds")))


# --- Price levels (the event page) -------------------------------------------


@dataclass(frozen=True)
class PriceLevel:
    """One price category of an event's seat map, as fans see it before they
    pick seats: reserved seats, or general admission (standing, `capacity`
    places)."""

    code: str
    name: str
    price: Decimal
    general_admission: bool
    capacity: int | None


def price_level_list(*, event_id: int) -> list[PriceLevel]:
    """The event's price categories in the organizer's order (`position`),
    in the event's currency; empty while the event has no seat map.

    One query on the categories alone: the page that shows them is the one
    fans land on before a sale, so it reads neither the seats nor Redis.
    """
    return [
        PriceLevel(
            code=row["code"],
            name=row["name"],
            price=row["price"],
            general_admission=row["general_admission"],
            capacity=row["capacity"],
        )
        for row in PriceCategory.objects.filter(event_id=event_id)
        .order_by("position", "pk")
        .values("code", "name", "price", "general_admission", "capacity")
    ]
