"""Reads of seat maps, availability and holds."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from onsale.events.models import Event
from onsale.platform.redis import redis_client
from onsale.seatselection import scripts
from onsale.seatselection.exceptions import (
    HoldNotFound,
    SeatMapNotFound,
)
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


# --- The seat map document (GET /seats) -------------------------------------


@dataclass(frozen=True)
class SeatMapDocument:
    """The JSON of an event's map, ready to send, and its version (the ETag)."""

    layout_version: int
    etag: str
    body: bytes


def seatmap_document_get(*, event_id: int) -> SeatMapDocument:
    """The seat map as one compact JSON document, cached per layout version.

    Seats are arrays in index order (array position == seat index == bit in
    the availability bitmap): `[id, section, row, label, x, y, category,
    accessibility]` where section and category point into their lists. It
    holds no availability, so it changes only when the map is replaced.
    """
    layout = seat_layout_get(event_id=event_id)
    cache_key = f"seatmap-doc:{event_id}:{layout.layout_id}"
    body = cache.get(cache_key)
    if body is None:
        body = _seatmap_document_build(
            event_id=event_id, layout_version=layout.layout_version
        )
        cache.set(cache_key, body, timeout=24 * 3600)
    return SeatMapDocument(
        layout_version=layout.layout_version,
        etag=f'"seatmap-{event_id}-{layout.layout_id}"',
        body=body,
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
    for pk, section_pk, row, label, x, y, category_pk, flags in (
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
        )
        .iterator(chunk_size=5000)
    ):
        min_x, max_x = min(min_x, x), max(max_x, x)
        min_y, max_y = min(min_y, y), max(max_y, y)
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
    # A rebuild is a write owned by services; imported here to keep the module
    # graph one-way at import time.
    from onsale.seatselection.services import seat_state_ensure

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


def availability_stream_position(*, event_id: int) -> tuple[int, str]:
    """(version, generation) right now, for a live stream's first message."""
    version, generation = redis_client().mget(
        seat_key(event_id, "version"), seat_key(event_id, "gen")
    )
    return int(version or 0), str(generation or "")


# --- Sold seats (the MySQL truth) ---------------------------------------------


def sold_seat_ids(*, event_id: int) -> set[int]:
    """Ids of the event's sold seats, read from MySQL: the one source the Redis
    "sold" bitmap is rebuilt from.

    Today the truth is `SeatSale` (written by `services.sale_record` in the
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


# --- Live changes -------------------------------------------------------------


@dataclass(frozen=True)
class StreamItem:
    """One item of a live availability stream: `hello` (where the stream
    starts), `change` (a published change), `heartbeat`, or `bye` (time up)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def availability_change_stream(
    *,
    event_id: int,
    max_seconds: float,
    heartbeat_seconds: float,
) -> Generator[StreamItem, None, None]:
    """Changes to the event's availability as the scripts publish them.

    Subscribes before reading the current version, so nothing published in
    between is missed: `hello` carries the version and generation to compare
    with the client's snapshot. Uses one Redis connection and no database
    connection; ends after `max_seconds` so a stream never pins a worker for
    good (clients reconnect and catch up from the snapshot).
    """
    from onsale.seatselection.keys import seat_changes_channel

    pubsub = redis_client().pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(seat_changes_channel(event_id))
        version, generation = availability_stream_position(event_id=event_id)
        yield StreamItem(
            kind="hello",
            data={"version": version, "generation": generation, "event_id": event_id},
        )
        started = time.monotonic()
        deadline = started + max_seconds
        next_heartbeat = started + heartbeat_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = max(0.0, min(1.0, deadline - now, next_heartbeat - now))
            message = pubsub.get_message(timeout=wait)
            if message is not None and message.get("type") == "message":
                yield StreamItem(kind="change", data=json.loads(message["data"]))
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + heartbeat_seconds
                yield StreamItem(kind="heartbeat")
        yield StreamItem(kind="bye", data={"reconnect": True})
    finally:
        pubsub.close()


async def availability_change_stream_async(
    *,
    event_id: int,
    max_seconds: float,
    heartbeat_seconds: float,
) -> AsyncGenerator[StreamItem, None]:
    """The items of `availability_change_stream`, for an event loop.

    Listens through the process's one shared pub/sub connection
    (`onsale.platform.pubsub`), so an open stream costs a queue, not a thread
    nor a Redis connection. The same order: listening is confirmed before the
    version is read. Ends early with `bye` when messages may have been missed
    (the shared connection failed, or this client fell far behind): the client
    reconnects and compares versions as after any gap. Leaving the iteration
    early (the client went away) removes the listener.
    """
    from onsale.platform.pubsub import (
        SubscriptionLost,
        channel_listen,
        redis_async_client,
    )
    from onsale.seatselection.keys import seat_changes_channel

    async with channel_listen(seat_changes_channel(event_id)) as listener:
        version, generation = await redis_async_client().mget(
            seat_key(event_id, "version"), seat_key(event_id, "gen")
        )
        yield StreamItem(
            kind="hello",
            data={
                "version": int(version or 0),
                "generation": str(generation or ""),
                "event_id": event_id,
            },
        )
        started = time.monotonic()
        deadline = started + max_seconds
        next_heartbeat = started + heartbeat_seconds
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            wait = max(0.0, min(deadline - now, next_heartbeat - now))
            try:
                data = await listener.get(timeout=wait)
            except SubscriptionLost:
                break
            if data is not None:
                yield StreamItem(kind="change", data=json.loads(data))
            if time.monotonic() >= next_heartbeat:
                next_heartbeat = time.monotonic() + heartbeat_seconds
                yield StreamItem(kind="heartbeat")
        yield StreamItem(kind="bye", data={"reconnect": True})


def hold_count_get(*, event_id: int) -> int:
    """How many holds of the event are alive (expired ones are purged by every
    hold, release and snapshot, and by the beat sweep)."""
    return int(redis_client().hlen(seat_key(event_id, "holds")))
