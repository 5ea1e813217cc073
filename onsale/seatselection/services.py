"""Writes and rules of seat maps, availability and holds.

The hold path keeps MySQL out of the contention: which seats are held lives in
Redis and every hold is one Lua script that takes all requested seats or none.
MySQL stays the truth for what was sold (`SeatSale`, UNIQUE per seat); the
Redis "sold" state is rebuilt from it whenever Redis lost the event's keys.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from onsale.events.models import Event
from onsale.platform import telemetry
from onsale.platform.audit import audit_record
from onsale.platform.exceptions import DomainError
from onsale.platform.telemetry import record_event
from onsale.seatselection import scripts
from onsale.seatselection.exceptions import (
    GeneralAdmissionSoldOut,
    HoldExpired,
    HoldNotFound,
    HoldRequestInvalid,
    HoldSessionEnded,
    NotEnoughSeats,
    SeatAlreadySold,
    SeatLimitReached,
    SeatMapInvalid,
    SeatMapLocked,
    SeatsContended,
    SeatStateUnavailable,
    SeatsUnavailable,
)
from onsale.seatselection.models import PriceCategory, Seat, SeatMap, SeatSale, Section
from onsale.seatselection.selectors import (
    AvailabilitySnapshot,
    Hold,
    SeatLayout,
    availability_snapshot,
    general_admission_sold,
    hold_from_stored,
    hold_layout_get,
    seat_layout_get,
    sold_seat_ids,
)
from onsale.usermgmt.models import User

logger = logging.getLogger(__name__)

# --- Seat maps: parsing ---------------------------------------------------------

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_MAX_PRICE = Decimal("99999999.99")
_MAX_CATEGORIES = 100
_MAX_SECTIONS = 1000
_MAX_GA_CAPACITY = 1_000_000
_MAX_GENERATED_SIDE = 2000
_MAX_COORDINATE = 1_000_000.0
_ACCESSIBILITY = {choice.label: int(choice.value) for choice in Seat.Accessibility}
_PALETTE = ("#0b5cad", "#a4161a", "#1f7a36", "#7b2cbf", "#c75000", "#00798c")


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    price: Decimal
    color: str
    general_admission: bool
    capacity: int | None


@dataclass(slots=True)
class SeatSpec:
    section: int
    row_label: str
    row_rank: int
    row_order: int
    position: int
    label: str
    x: float
    y: float
    category: str
    accessibility: int
    blocked: bool


@dataclass
class SeatMapSpec:
    """A parsed, fully validated seat map: nothing is written before this
    exists, so an invalid map changes nothing."""

    categories: list[CategorySpec]
    sections: list[str]
    seats: list[SeatSpec] = field(default_factory=list)


def _invalid(code: str, message: str, path: str, **extra: Any) -> SeatMapInvalid:
    return SeatMapInvalid(message, code=code, extra={"path": path, **extra})


def _object(value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid("seatmap_invalid", f"{path} must be an object.", path)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _invalid(
            "seatmap_invalid",
            f"{path} has unknown fields: {', '.join(unknown)}.",
            path,
            unknown=unknown,
        )
    return value


def _list(value: Any, path: str, *, max_items: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise _invalid("seatmap_invalid", f"{path} must be a list.", path)
    if max_items is not None and len(value) > max_items:
        raise _invalid(
            "seatmap_too_large",
            f"{path} has more than {max_items} entries.",
            path,
            max_items=max_items,
        )
    return value


def _text(value: Any, path: str, *, max_length: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _invalid("seatmap_invalid", f"{path} must be a non-empty text.", path)
    value = value.strip()
    if len(value) > max_length:
        raise _invalid(
            "seatmap_invalid",
            f"{path} is longer than {max_length} characters.",
            path,
        )
    return value


def _integer(value: Any, path: str, *, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid("seatmap_invalid", f"{path} must be an integer.", path)
    if not minimum <= value <= maximum:
        raise _invalid(
            "seatmap_too_large" if value > maximum else "seatmap_invalid",
            f"{path} must be between {minimum} and {maximum}.",
            path,
        )
    return value


def _number(value: Any, path: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _invalid("seatmap_invalid", f"{path} must be a number.", path)
    number = float(value)
    if not math.isfinite(number) or abs(number) > _MAX_COORDINATE:
        raise _invalid(
            "seatmap_invalid",
            f"{path} must be a finite number within +-{_MAX_COORDINATE:.0f}.",
            path,
        )
    return number


def _price(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _invalid(
            "seatmap_invalid_price", f"{path} must be a decimal string.", path
        )
    try:
        # Floats go through their shortest repr, so 19.99 stays 19.99.
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid(
            "seatmap_invalid_price", f"{path} is not a decimal number.", path
        ) from None
    if not price.is_finite():
        raise _invalid("seatmap_invalid_price", f"{path} is not a number.", path)
    if price < 0:
        raise _invalid("seatmap_negative_price", f"{path} must not be negative.", path)
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _invalid(
            "seatmap_invalid_price",
            f"{path} has more than two decimal places.",
            path,
        )
    if price > _MAX_PRICE:
        raise _invalid("seatmap_invalid_price", f"{path} is too large.", path)
    return price.quantize(Decimal("0.01"))


def _row_letters(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (spreadsheet column style)."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _categories_parse(value: Any) -> list[CategorySpec]:
    items = _list(value, "categories", max_items=_MAX_CATEGORIES)
    if not items:
        raise _invalid(
            "seatmap_invalid",
            "The map needs at least one price category.",
            "categories",
        )
    categories: list[CategorySpec] = []
    seen: set[str] = set()
    for number, item in enumerate(items):
        path = f"categories[{number}]"
        item = _object(
            item,
            path,
            {"code", "name", "price", "color", "general_admission", "capacity"},
        )
        code = item.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise _invalid(
                "seatmap_invalid",
                f"{path}.code must be 1-16 letters, digits, '-' or '_'.",
                f"{path}.code",
            )
        if code in seen:
            raise _invalid(
                "seatmap_duplicate_category",
                f"Category {code!r} is defined twice.",
                f"{path}.code",
                category=code,
            )
        seen.add(code)
        name = _text(item.get("name", code), f"{path}.name", max_length=100)
        if "price" not in item:
            raise _invalid(
                "seatmap_invalid_price", f"{path}.price is required.", f"{path}.price"
            )
        price = _price(item["price"], f"{path}.price")
        color = item.get("color", _PALETTE[number % len(_PALETTE)])
        if not isinstance(color, str) or not _COLOR.match(color):
            raise _invalid(
                "seatmap_invalid",
                f"{path}.color must look like #1a2b3c.",
                f"{path}.color",
            )
        general_admission = item.get("general_admission", False)
        if not isinstance(general_admission, bool):
            raise _invalid(
                "seatmap_invalid",
                f"{path}.general_admission must be true or false.",
                f"{path}.general_admission",
            )
        capacity: int | None = None
        if general_admission:
            capacity = _integer(
                item.get("capacity"),
                f"{path}.capacity",
                minimum=1,
                maximum=_MAX_GA_CAPACITY,
            )
        elif item.get("capacity") is not None:
            raise _invalid(
                "seatmap_invalid",
                f"{path}.capacity is only for general-admission categories.",
                f"{path}.capacity",
            )
        categories.append(
            CategorySpec(
                code=code,
                name=name,
                price=price,
                color=color.lower(),
                general_admission=general_admission,
                capacity=capacity,
            )
        )
    return categories


class _SeatMapBuilder:
    """Collects seats from both forms, checking each as it comes, so a map
    over the size limit is refused before it is materialised."""

    def __init__(self, categories: list[CategorySpec]) -> None:
        self.max_seats = settings.SEATMAP_MAX_SEATS
        self.seated = {c.code for c in categories if not c.general_admission}
        self.general = {c.code for c in categories if c.general_admission}
        self.sections: list[str] = []
        self.section_slot: dict[str, int] = {}
        self.section_rows: dict[int, int] = {}
        self.seats: list[SeatSpec] = []
        self.seen: set[tuple[int, str, str]] = set()
        self.max_y = -math.inf

    def section(self, name: str) -> int:
        slot = self.section_slot.get(name)
        if slot is None:
            if len(self.sections) >= _MAX_SECTIONS:
                raise _invalid(
                    "seatmap_too_large",
                    f"The map has more than {_MAX_SECTIONS} sections.",
                    "sections",
                )
            slot = len(self.sections)
            self.sections.append(name)
            self.section_slot[name] = slot
            self.section_rows[slot] = 0
        return slot

    def category(self, code: Any, path: str) -> str:
        if isinstance(code, str) and code in self.seated:
            return code
        if isinstance(code, str) and code in self.general:
            raise _invalid(
                "seatmap_general_admission_seat",
                f"{path}: category {code!r} is general admission and has no seats.",
                path,
                category=code,
            )
        raise _invalid(
            "seatmap_unknown_category",
            f"{path}: unknown category {code!r}.",
            path,
            category=code if isinstance(code, str) else None,
        )

    def room_for(self, count: int, path: str) -> None:
        if len(self.seats) + count > self.max_seats:
            raise _invalid(
                "seatmap_too_large",
                f"The map has more than {self.max_seats} seats.",
                path,
                max_seats=self.max_seats,
            )

    def add(self, spec: SeatSpec, path: str) -> None:
        identity = (spec.section, spec.row_label, spec.label)
        if identity in self.seen:
            raise _invalid(
                "seatmap_duplicate_seat",
                f"{path}: seat {spec.row_label}-{spec.label} of section "
                f"{self.sections[spec.section]!r} appears twice.",
                path,
                section=self.sections[spec.section],
                row=spec.row_label,
                seat=spec.label,
            )
        self.seen.add(identity)
        if spec.y > self.max_y:
            self.max_y = spec.y
        self.seats.append(spec)


def _accessibility_parse(value: Any, path: str) -> int:
    if value is None:
        return 0
    flags = 0
    for name in _list(value, path, max_items=len(_ACCESSIBILITY)):
        if name not in _ACCESSIBILITY:
            raise _invalid(
                "seatmap_invalid",
                f"{path}: unknown accessibility flag {name!r} "
                f"(known: {', '.join(_ACCESSIBILITY)}).",
                path,
            )
        flags |= _ACCESSIBILITY[name]
    return flags


def _sections_parse(builder: _SeatMapBuilder, value: Any) -> None:
    for s_number, section_item in enumerate(
        _list(value, "sections", max_items=_MAX_SECTIONS)
    ):
        s_path = f"sections[{s_number}]"
        section_item = _object(section_item, s_path, {"name", "rows"})
        name = _text(section_item.get("name"), f"{s_path}.name", max_length=100)
        if name in builder.section_slot:
            raise _invalid(
                "seatmap_duplicate_section",
                f"Section {name!r} is defined twice.",
                f"{s_path}.name",
                section=name,
            )
        slot = builder.section(name)
        rows = _list(section_item.get("rows"), f"{s_path}.rows")
        row_labels: set[str] = set()
        for r_number, row_item in enumerate(rows):
            r_path = f"{s_path}.rows[{r_number}]"
            row_item = _object(row_item, r_path, {"label", "rank", "seats"})
            row_label = _text(row_item.get("label"), f"{r_path}.label", max_length=16)
            if row_label in row_labels:
                raise _invalid(
                    "seatmap_duplicate_row",
                    f"Row {row_label!r} appears twice in section {name!r}.",
                    f"{r_path}.label",
                    section=name,
                    row=row_label,
                )
            row_labels.add(row_label)
            rank = row_item.get("rank", r_number)
            rank = _integer(rank, f"{r_path}.rank", minimum=0, maximum=1_000_000)
            seats = _list(row_item.get("seats"), f"{r_path}.seats")
            builder.room_for(len(seats), f"{r_path}.seats")
            order = builder.section_rows[slot]
            builder.section_rows[slot] = order + 1
            for position, seat_item in enumerate(seats):
                path = f"{r_path}.seats[{position}]"
                seat_item = _object(
                    seat_item,
                    path,
                    {"label", "x", "y", "category", "accessibility", "blocked"},
                )
                blocked = seat_item.get("blocked", False)
                if not isinstance(blocked, bool):
                    raise _invalid(
                        "seatmap_invalid",
                        f"{path}.blocked must be true or false.",
                        f"{path}.blocked",
                    )
                builder.add(
                    SeatSpec(
                        section=slot,
                        row_label=row_label,
                        row_rank=rank,
                        row_order=order,
                        position=position,
                        label=_text(
                            seat_item.get("label"), f"{path}.label", max_length=16
                        ),
                        x=_number(seat_item.get("x"), f"{path}.x"),
                        y=_number(seat_item.get("y"), f"{path}.y"),
                        category=builder.category(
                            seat_item.get("category"), f"{path}.category"
                        ),
                        accessibility=_accessibility_parse(
                            seat_item.get("accessibility"), f"{path}.accessibility"
                        ),
                        blocked=blocked,
                    ),
                    path,
                )


def _point(value: Any, path: str, default: tuple[float, float]) -> tuple[float, float]:
    if value is None:
        return default
    item = _object(value, path, {"x", "y"})
    return (
        _number(item.get("x", default[0]), f"{path}.x"),
        _number(item.get("y", default[1]), f"{path}.y"),
    )


def _generators_parse(builder: _SeatMapBuilder, value: Any) -> None:
    for number, item in enumerate(_list(value, "generate", max_items=_MAX_SECTIONS)):
        path = f"generate[{number}]"
        item = _object(
            item,
            path,
            {
                "section",
                "rows",
                "seats_per_row",
                "category",
                "first_row",
                "first_seat",
                "row_labels",
                "origin",
                "spacing",
            },
        )
        name = _text(item.get("section"), f"{path}.section", max_length=100)
        rows = _integer(
            item.get("rows"), f"{path}.rows", minimum=1, maximum=_MAX_GENERATED_SIDE
        )
        per_row = _integer(
            item.get("seats_per_row"),
            f"{path}.seats_per_row",
            minimum=1,
            maximum=_MAX_GENERATED_SIDE,
        )
        builder.room_for(rows * per_row, path)
        category = builder.category(item.get("category"), f"{path}.category")
        first_row = _integer(
            item.get("first_row", 1), f"{path}.first_row", minimum=1, maximum=100_000
        )
        first_seat = _integer(
            item.get("first_seat", 1),
            f"{path}.first_seat",
            minimum=0,
            maximum=100_000,
        )
        style = item.get("row_labels", "letters")
        if style not in ("letters", "numbers"):
            raise _invalid(
                "seatmap_invalid",
                f"{path}.row_labels must be 'letters' or 'numbers'.",
                f"{path}.row_labels",
            )
        spacing_x, spacing_y = _point(item.get("spacing"), f"{path}.spacing", (1, 1))
        # Without an origin, a generated block goes below everything so far.
        below = 0.0 if builder.max_y == -math.inf else builder.max_y + 2 * spacing_y
        origin_x, origin_y = _point(item.get("origin"), f"{path}.origin", (0, below))
        slot = builder.section(name)
        labels = [str(first_seat + j) for j in range(per_row)]
        for i in range(rows):
            row_number = first_row + i
            row_label = (
                _row_letters(row_number) if style == "letters" else str(row_number)
            )
            order = builder.section_rows[slot]
            builder.section_rows[slot] = order + 1
            y = origin_y + i * spacing_y
            for j in range(per_row):
                builder.add(
                    SeatSpec(
                        section=slot,
                        row_label=row_label,
                        row_rank=row_number - 1,
                        row_order=order,
                        position=j,
                        label=labels[j],
                        x=origin_x + j * spacing_x,
                        y=y,
                        category=category,
                        accessibility=0,
                        blocked=False,
                    ),
                    f"{path} row {row_label} seat {labels[j]}",
                )


def seatmap_parse(*, data: Any) -> SeatMapSpec:
    """Validate a seat map as sent by an organizer and return it parsed.

    Two forms, which may be combined in one map:

    - full: `sections: [{name, rows: [{label, rank?, seats: [{label, x, y,
      category, accessibility?: [flags], blocked?}]}]}]`;
    - compact generator: `generate: [{section, rows, seats_per_row, category,
      first_row?, first_seat?, row_labels?: letters|numbers, origin?: {x, y},
      spacing?: {x, y}}]`; several generators may fill one section (e.g. the
      front rows in a dearer category).

    `categories: [{code, name, price, color?, general_admission?, capacity?}]`
    is required; prices are decimals in the event's currency (strings
    preferred; at most two decimal places, never negative). A
    general-admission category has a capacity and no seats. Any problem raises
    `SeatMapInvalid` whose code names it (seatmap_duplicate_seat,
    seatmap_unknown_category, seatmap_negative_price, seatmap_too_large, ...)
    and whose `extra["path"]` says where. Parsing writes nothing.
    """
    data = _object(data, "map", {"categories", "sections", "generate"})
    categories = _categories_parse(data.get("categories"))
    builder = _SeatMapBuilder(categories)
    if data.get("sections") is not None:
        _sections_parse(builder, data["sections"])
    if data.get("generate") is not None:
        _generators_parse(builder, data["generate"])
    if not builder.seats and not builder.general:
        raise _invalid(
            "seatmap_empty",
            "The map has no seats and no general-admission category.",
            "map",
        )
    unused = builder.seated - {seat.category for seat in builder.seats}
    if unused:
        raise _invalid(
            "seatmap_unused_category",
            f"Categories without seats: {', '.join(sorted(unused))}.",
            "categories",
            categories=sorted(unused),
        )
    return SeatMapSpec(
        categories=categories, sections=builder.sections, seats=builder.seats
    )


# --- Seat maps: writing ---------------------------------------------------------

_SEAT_BATCH = 5000


def _seatmap_check_replaceable(event: Event) -> None:
    started = (
        event.status == Event.Status.PUBLISHED and event.onsale_at <= timezone.now()
    )
    sold = (
        SeatSale.objects.filter(event=event).exists()
        or PriceCategory.objects.filter(event=event, ga_sold__gt=0).exists()
    )
    if started or sold:
        raise SeatMapLocked(extra={"onsale_started": started, "seats_sold": sold})


def seatmap_replace(*, event: Event, data: Any, actor: User | None = None) -> SeatMap:
    """Replace the event's whole seat map (categories, sections, seats) with
    `data` (see `seatmap_parse`), in one transaction.

    Everything is validated before the first write, and the writes share one
    transaction, so a refused or failed load leaves the old map untouched.
    Seats are inserted in batches of 5,000 (a 50,000-seat stadium takes a few
    seconds; see `_seats_insert`). Refused with `SeatMapLocked` once the on-sale of a published
    event has started or anything was sold: seat indexes would change under
    holds and tickets. After the commit, the event's Redis seat state is built
    afresh from the new map (holds made before the on-sale are dropped) and
    every process reloads the layout (within seconds even if that step is
    lost: the state carries its layout version and is rebuilt on mismatch).
    Audited as `seatmap.replace` (counts, not the whole map).
    """
    spec = seatmap_parse(data=data)
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        _seatmap_check_replaceable(locked)
        # Plain DELETEs: nothing references these rows (no sale, checked above),
        # and the ORM's cascade collector would load 50,000 seats to delete them.
        with connection.cursor() as cursor:
            for model in (Seat, Section, PriceCategory):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE event_id = %s",  # noqa: S608 - table names come from the models
                    [locked.pk],
                )
        PriceCategory.objects.bulk_create(
            [
                PriceCategory(
                    event=locked,
                    code=category.code,
                    name=category.name,
                    price=category.price,
                    color=category.color,
                    position=position,
                    general_admission=category.general_admission,
                    capacity=category.capacity,
                )
                for position, category in enumerate(spec.categories)
            ]
        )
        Section.objects.bulk_create(
            [
                Section(event=locked, name=name, position=position)
                for position, name in enumerate(spec.sections)
            ]
        )
        category_pk = dict(
            PriceCategory.objects.filter(event=locked).values_list("code", "pk")
        )
        section_pk = dict(
            Section.objects.filter(event=locked).values_list("position", "pk")
        )
        _seats_insert(
            event_id=locked.pk,
            spec=spec,
            section_pk=section_pk,
            category_pk=category_pk,
        )
        seatmap, created = SeatMap.objects.select_for_update().get_or_create(
            event=locked, defaults={"seat_count": len(spec.seats)}
        )
        if not created:
            seatmap.layout_version += 1
            seatmap.layout_token = uuid.uuid4()
            seatmap.blocked_version += 1
            seatmap.seat_count = len(spec.seats)
            seatmap.save()
        event_id = locked.pk
        audit_record(
            actor=actor,
            organization=locked.organization_id,
            event_id=event_id,
            action="seatmap.replace",
            before={} if created else {"layout_version": seatmap.layout_version - 1},
            after={
                "layout_version": seatmap.layout_version,
                "seat_count": len(spec.seats),
                "sections": len(spec.sections),
                "categories": {c.code: c.price for c in spec.categories},
            },
        )
        transaction.on_commit(lambda: seat_state_ensure(event_id=event_id), robust=True)
    return seatmap


_SEAT_COLUMNS = (
    "event_id",
    "section_id",
    "category_id",
    "index",
    "row_label",
    "row_rank",
    "row_order",
    "position",
    "label",
    "x",
    "y",
    "accessibility",
    "blocked",
)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _seats_insert(
    *,
    event_id: int,
    spec: SeatMapSpec,
    section_pk: dict[int, int],
    category_pk: dict[str, int],
) -> None:
    """Insert the seats in batches of 5,000 rows with multi-row INSERTs.

    Not `bulk_create`: the ORM compiles every field of every row to SQL in
    Python, which made a 50,000-seat map take ~8 s here; plain `executemany`
    (which MySQLdb turns into multi-row INSERTs) writes the same rows in about
    a quarter of the time. Column names come from the model, so they stay in
    step with it.
    """
    meta = Seat._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(_column(Seat, name.removesuffix("_id"))) for name in _SEAT_COLUMNS
    )
    placeholders = ", ".join(["%s"] * len(_SEAT_COLUMNS))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names come from the model
    with connection.cursor() as cursor:
        for start in range(0, len(spec.seats), _SEAT_BATCH):
            cursor.executemany(
                sql,
                [
                    (
                        event_id,
                        section_pk[seat.section],
                        category_pk[seat.category],
                        start + offset,
                        seat.row_label,
                        seat.row_rank,
                        seat.row_order,
                        seat.position,
                        seat.label,
                        seat.x,
                        seat.y,
                        seat.accessibility,
                        seat.blocked,
                    )
                    for offset, seat in enumerate(
                        spec.seats[start : start + _SEAT_BATCH]
                    )
                ],
            )


def seats_block_set(
    *,
    event: Event,
    seat_ids: Sequence[int],
    blocked: bool,
    actor: User | None = None,
) -> SeatMap:
    """Block (kills, production holds) or unblock seats of the event.

    Blocked seats are never offered and cannot be held; a seat already held
    stays with its holder until the hold ends, and a sold seat stays sold.
    Unknown seat ids (or another event's) are `SeatMapInvalid` and nothing
    changes. The blocked set carries a version, so Redis always ends up with
    the newest set even when a rebuild runs at the same time. Audited as
    `seats.block` / `seats.unblock` with the seat ids.
    """
    wanted = set(seat_ids)
    with transaction.atomic():
        seatmap = SeatMap.objects.select_for_update().filter(event=event).first()
        if seatmap is None:
            raise _invalid("seatmap_not_found", "This event has no seat map.", "map")
        found = set(
            Seat.objects.filter(event=event, pk__in=wanted).values_list("pk", flat=True)
        )
        missing = sorted(wanted - found)
        if missing:
            raise _invalid(
                "seatmap_unknown_seat",
                "Some seats are not part of this event's map.",
                "seat_ids",
                seat_ids=missing[:50],
            )
        Seat.objects.filter(event=event, pk__in=wanted).update(blocked=blocked)
        seatmap.blocked_version += 1
        seatmap.save(update_fields=["blocked_version", "updated_at"])
        event_id = event.pk
        audit_record(
            actor=actor,
            organization=event.organization_id,
            event_id=event_id,
            action="seats.block" if blocked else "seats.unblock",
            before={"blocked_version": seatmap.blocked_version - 1},
            after={"blocked_version": seatmap.blocked_version, "seat_ids": wanted},
        )
        # If Redis is unreachable now, the periodic reconcile applies it.
        transaction.on_commit(
            lambda: _seat_state_block_push(event_id=event_id), robust=True
        )
    return seatmap


# --- Redis seat state: build, rebuild, reset --------------------------------------


def _bitmap(size_bits: int, indexes: Iterator[int] | Sequence[int]) -> bytes:
    bitmap = bytearray((size_bits + 7) // 8)
    for index in indexes:
        bitmap[index >> 3] |= 0x80 >> (index & 7)
    return bytes(bitmap)


def seat_state_ensure(*, event_id: int) -> bool:
    """Make sure the event's Redis seat state exists and was built for the
    current seat map; build it from MySQL if not. Returns True if this call
    built it.

    Runs on first use, after Redis lost the event's keys (the hold and
    snapshot scripts find the generation key missing and ask for it), and
    after a seat map replacement (the state was built for an older layout:
    its holds are dropped). Sold seats come from `sold_seat_ids`; blocked seats
    and GA counts from MySQL. Safe under any concurrency: the build applies
    once per layout, and a sale marked sold meanwhile is kept.
    """
    # MySQL decides which layout is current; this also refreshes Redis's note
    # of it, so every process picks up a replaced map.
    layout = seat_layout_get(event_id=event_id, fresh=True)
    # The version is read before the blocked set: if a block lands in
    # between, Redis gets the newer set under the older version and the
    # block's own push (newer version) still applies. The other order could
    # store an older set under a newer version and lose the block.
    blocked_version = SeatMap.objects.values_list("blocked_version", flat=True).get(
        event_id=event_id
    )
    blocked = list(
        Seat.objects.filter(event_id=event_id, blocked=True).values_list(
            "index", flat=True
        )
    )
    sold_indexes = [
        layout.index_by_seat_id[pk]
        for pk in sold_seat_ids(event_id=event_id)
        if pk in layout.index_by_seat_id
    ]
    ga_sold = general_admission_sold(event_id=event_id)
    built = scripts.build_script(
        event_id=event_id,
        layout_version=layout.layout_version,
        layout_token=layout.layout_token,
        token=uuid.uuid4().hex,
        blocked_version=blocked_version,
        blocked=_bitmap(layout.seat_count, blocked),
        sold=_bitmap(layout.seat_count, sold_indexes),
        general_admission=[
            (code, int(info.capacity or 0), ga_sold.get(code, 0))
            for code, info in layout.categories.items()
            if info.general_admission
        ],
    )
    if built:
        # First use of an event, a replaced map, or Redis lost its keys (then
        # this is the line to find in the logs).
        logger.info(
            "seat state built from MySQL",
            extra={"event_id": event_id, "layout_version": layout.layout_version},
        )
    return built


def _seat_state_block_push(*, event_id: int) -> None:
    # Rare, and right after a map change a process's copy may be behind.
    layout = seat_layout_get(event_id=event_id, fresh=True)
    blocked_version = SeatMap.objects.values_list("blocked_version", flat=True).get(
        event_id=event_id
    )
    blocked = Seat.objects.filter(event_id=event_id, blocked=True).values_list(
        "index", flat=True
    )
    scripts.block_script(
        event_id=event_id,
        blocked_version=blocked_version,
        blocked=_bitmap(layout.seat_count, list(blocked)),
    )


# --- Holds ----------------------------------------------------------------------

# Best-available tries this many candidates before giving up on a hot category.
_BEST_AVAILABLE_ATTEMPTS = 10
# Only spreads racing fans over equally good seats; not security-relevant.
_random = random.SystemRandom()
# A lost state is rebuilt and the hold retried at most this often per call.
_REBUILD_ATTEMPTS = 3


@dataclass(frozen=True)
class _Candidate:
    indexes: list[int]
    adjacent: bool


_LAYOUT_DEPENDENT_CODES = frozenset({"hold_unknown_seats", "hold_unknown_category"})


class _StateRebuilt(Exception):
    """The seat state was missing or built for another layout and has been
    rebuilt: work out the request again against the current layout."""


def _hold_run(
    *,
    layout: SeatLayout,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    max_seats_per_fan: int,
    seat_indexes: Sequence[int],
    general_admission: Sequence[tuple[str, int]],
) -> scripts.HoldScriptResult:
    result = scripts.hold_script(
        event_id=layout.event_id,
        layout_id=layout.layout_id,
        user_id=user_id,
        session_id=session_id,
        session_end_ms=session_expires_at * 1000,
        ttl_ms=settings.SEAT_HOLD_SECONDS * 1000,
        max_seats_per_fan=max_seats_per_fan,
        seat_indexes=seat_indexes,
        general_admission=general_admission,
    )
    if result.status == "rebuild":
        seat_state_ensure(event_id=layout.event_id)
        raise _StateRebuilt()
    return result


def _hold_result(
    *,
    layout: SeatLayout,
    result: scripts.HoldScriptResult,
    user_id: int,
    session_id: str,
    seat_indexes: Sequence[int],
    general_admission: Sequence[tuple[str, int]],
    requested: int,
    adjacent: bool | None = None,
) -> Hold:
    if result.status == "ok":
        stored = scripts.StoredHold(
            hold_id=result.hold_id,
            event_id=layout.event_id,
            layout_id=layout.layout_id,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=tuple(seat_indexes),
            general_admission=dict(general_admission),
            expires_ms=result.expires_ms,
        )
        return hold_from_stored(
            layout=layout,
            stored=stored,
            adjacent=adjacent,
            replaced_hold_id=result.replaced_hold_id,
            version=result.version,
        )
    if result.status == "taken":
        raise SeatsUnavailable(
            extra={"seat_ids": [layout.seat_ids[index] for index in result.taken]}
        )
    if result.status == "ga_short":
        raise NotEnoughSeats(
            extra={"category": result.ga_code, "available": result.available}
        )
    if result.status == "fan_limit":
        raise SeatLimitReached(
            extra={
                "held": result.held_elsewhere,
                "requested": requested,
                "max_seats_per_fan": result.limit,
            }
        )
    raise HoldSessionEnded()


def _max_seats_per_fan(event_id: int) -> int:
    from onsale.waitingroom.selectors import max_seats_per_fan_get

    return max_seats_per_fan_get(event_id=event_id)


def hold_create(
    *,
    event_id: int,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None = None,
    category: str | None = None,
    quantity: int | None = None,
    max_seats_per_fan: int | None = None,
) -> Hold:
    """Hold seats for an admitted fan: all of them or none.

    Either `seat_ids` (chosen on the map) or `category` + `quantity` ("best
    available" for reserved seating: adjacent seats in one row where any row
    has them, best rows first; for a general-admission category: places
    against its capacity). One Lua script checks and takes everything, so
    parallel requests cannot both get a seat, exceed a GA capacity or the
    per-fan limit (`max_seats_per_fan` across all the fan's holds of the event;
    default: the waiting room's setting).

    The hold lives `SEAT_HOLD_SECONDS`, never past the fan's session end
    (`session_expires_at`, epoch seconds), then frees itself. A session has one
    active hold: a new hold replaces it atomically (if the new seats cannot be
    taken, the old hold stays). Each hold gets a larger id than every earlier
    hold of the event (the fencing token checkout checks).

    Errors (nothing is held on any of them): `HoldRequestInvalid` (malformed:
    empty, duplicate, unknown or too many seats, unknown category),
    `SeatsUnavailable` (lists the seats just taken), `NotEnoughSeats`,
    `SeatsContended`, `SeatLimitReached`, `HoldSessionEnded`.
    If Redis lost the event's state, it is rebuilt from MySQL before any seat
    is granted. Every outcome is recorded as a `HoldCreated` / `HoldRejected`
    business event.
    """
    started = time.perf_counter()
    mode = "seats" if seat_ids is not None else "best_available"
    requested = len(seat_ids) if seat_ids is not None else (quantity or 0)
    try:
        hold = _hold_create(
            event_id=event_id,
            user_id=user_id,
            session_id=session_id,
            session_expires_at=session_expires_at,
            seat_ids=seat_ids,
            category=category,
            quantity=quantity,
            max_seats_per_fan=max_seats_per_fan,
        )
    except DomainError as exc:
        record_event(
            telemetry.HOLD_REJECTED,
            event_id=event_id,
            reason=exc.code,
            seats=requested,
            mode=mode,
            category=category,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        raise
    record_event(
        telemetry.HOLD_CREATED,
        event_id=event_id,
        hold_id=hold.hold_id,
        seats=len(hold.seat_ids) + sum(hold.general_admission.values()),
        mode=mode,
        category=category,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return hold


def _hold_create(
    *,
    event_id: int,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None = None,
    category: str | None = None,
    quantity: int | None = None,
    max_seats_per_fan: int | None = None,
) -> Hold:
    """`hold_create` without the telemetry. Seat ids are stable; the seat
    indexes the scripts use belong to one layout, so if the state turns out
    to be missing or built for another layout, it is rebuilt and the request
    worked out again against the current layout."""
    if (seat_ids is None) == (category is None):
        raise HoldRequestInvalid(
            "Ask either for seats or for a category and a quantity.",
            code="hold_invalid",
        )
    if max_seats_per_fan is None:
        max_seats_per_fan = _max_seats_per_fan(event_id)
    fresh = False
    for _ in range(_REBUILD_ATTEMPTS):
        layout = seat_layout_get(event_id=event_id, fresh=fresh)
        try:
            return _hold_attempt(
                layout=layout,
                user_id=user_id,
                session_id=session_id,
                session_expires_at=session_expires_at,
                seat_ids=seat_ids,
                category=category,
                quantity=quantity,
                max_seats_per_fan=max_seats_per_fan,
            )
        except _StateRebuilt:
            continue
        except HoldRequestInvalid as exc:
            # Seats or a category this process's copy of the map does not
            # know: if the copy may be behind, check with MySQL once.
            if fresh or exc.code not in _LAYOUT_DEPENDENT_CODES:
                raise
            fresh = True
    raise SeatStateUnavailable(retry_after=1)


def _hold_attempt(
    *,
    layout: SeatLayout,
    user_id: int,
    session_id: str,
    session_expires_at: int,
    seat_ids: Sequence[int] | None,
    category: str | None,
    quantity: int | None,
    max_seats_per_fan: int,
) -> Hold:
    limit = settings.SEAT_HOLD_MAX_SEATS_PER_REQUEST
    common: dict[str, Any] = {
        "layout": layout,
        "user_id": user_id,
        "session_id": session_id,
        "session_expires_at": session_expires_at,
        "max_seats_per_fan": max_seats_per_fan,
    }
    if seat_ids is not None:
        indexes = _hold_seat_indexes(layout=layout, seat_ids=seat_ids, limit=limit)
        result = _hold_run(**common, seat_indexes=indexes, general_admission=())
        return _hold_result(
            layout=layout,
            result=result,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=indexes,
            general_admission=(),
            requested=len(indexes),
        )
    assert category is not None
    info = layout.categories.get(category)
    if info is None:
        raise HoldRequestInvalid(
            "There is no such category.",
            code="hold_unknown_category",
            extra={"category": category},
        )
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= limit
    ):
        raise HoldRequestInvalid(
            f"The quantity must be between 1 and {limit}.",
            code="hold_invalid_quantity",
            extra={"max": limit},
        )
    if info.general_admission:
        general = ((category, quantity),)
        result = _hold_run(**common, seat_indexes=(), general_admission=general)
        return _hold_result(
            layout=layout,
            result=result,
            user_id=user_id,
            session_id=session_id,
            seat_indexes=(),
            general_admission=general,
            requested=quantity,
        )
    return _hold_best_available(common=common, category=category, quantity=quantity)


def _hold_seat_indexes(
    *, layout: SeatLayout, seat_ids: Sequence[int], limit: int
) -> list[int]:
    if not seat_ids:
        raise HoldRequestInvalid("Ask for at least one seat.", code="hold_no_seats")
    if len(seat_ids) > limit:
        raise HoldRequestInvalid(
            f"At most {limit} seats per hold.",
            code="hold_too_many_seats",
            extra={"max": limit},
        )
    if any(not isinstance(pk, int) or isinstance(pk, bool) for pk in seat_ids):
        raise HoldRequestInvalid("Seat ids are integers.", code="hold_invalid")
    if len(set(seat_ids)) != len(seat_ids):
        raise HoldRequestInvalid(
            "A seat is listed more than once.", code="hold_duplicate_seats"
        )
    unknown = [pk for pk in seat_ids if pk not in layout.index_by_seat_id]
    if unknown:
        raise HoldRequestInvalid(
            "Some seats are not part of this event.",
            code="hold_unknown_seats",
            extra={"seat_ids": unknown},
        )
    return [layout.index_by_seat_id[pk] for pk in seat_ids]


def best_available_candidates(
    *,
    layout: SeatLayout,
    category: str,
    quantity: int,
    is_free: Callable[[int], bool],
    limit: int = 8,
) -> list[_Candidate]:
    """Up to `limit` sets of seats to offer for `quantity` in `category`, best
    first; empty if fewer seats are free.

    Rows are taken best first (row rank, then section, then row order). In a
    row, every run of `quantity` adjacent free seats is a candidate, the runs
    nearest the row's middle first. If no row has such a run, the one
    candidate is the best free seats in row order, not adjacent.
    `is_free(index)` says whether a seat is free.
    """
    rows = layout.rows.get(category, [])
    candidates: list[_Candidate] = []
    for row in rows:
        if len(row) < quantity:
            continue
        middle = (row[0][0] + row[-1][0]) / 2
        windows: list[tuple[float, list[int]]] = []
        run: list[tuple[int, int]] = []
        for position, index in row:
            if not is_free(index):
                run = []
                continue
            if run and position != run[-1][0] + 1:
                run = []  # a gap (another category's seat, an aisle) breaks the run
            run.append((position, index))
            if len(run) >= quantity:
                window = run[-quantity:]
                distance = abs((window[0][0] + window[-1][0]) / 2 - middle)
                windows.append((distance, [i for _, i in window]))
        windows.sort(key=lambda item: item[0])
        for _, indexes in windows:
            candidates.append(_Candidate(indexes=indexes, adjacent=True))
            if len(candidates) >= limit:
                return candidates
    if candidates:
        return candidates
    scattered: list[int] = []
    for row in rows:
        for _, index in row:
            if is_free(index):
                scattered.append(index)
                if len(scattered) == quantity:
                    return [_Candidate(indexes=scattered, adjacent=quantity == 1)]
    return []


def _hold_best_available(
    *, common: dict[str, Any], category: str, quantity: int
) -> Hold:
    """Pick candidates in Python from the cached map and the availability
    snapshot, claim one in Lua. A lost race re-reads the snapshot and claims
    another candidate, chosen at random among a widening set of the best ones
    so that fans racing for the same row spread out instead of colliding
    again; bounded attempts, then `SeatsContended` (409, retry)."""
    layout: SeatLayout = common["layout"]
    lost: set[int] = set()
    for attempt in range(_BEST_AVAILABLE_ATTEMPTS):
        snapshot = availability_snapshot(event_id=layout.event_id)

        def is_free(index: int, snapshot: AvailabilitySnapshot = snapshot) -> bool:
            return index not in lost and not snapshot.is_unavailable(index)

        candidates = best_available_candidates(
            layout=layout, category=category, quantity=quantity, is_free=is_free
        )
        if not candidates:
            raise NotEnoughSeats(extra={"category": category, "available": None})
        # The first try takes the best; retries spread over the best few.
        spread = min(len(candidates), 1 if attempt == 0 else 2 * attempt)
        candidate = candidates[_random.randrange(spread)]
        result = _hold_run(
            **common, seat_indexes=candidate.indexes, general_admission=()
        )
        if result.status == "taken":
            lost.update(result.taken)
            continue
        return _hold_result(
            layout=layout,
            result=result,
            user_id=common["user_id"],
            session_id=common["session_id"],
            seat_indexes=candidate.indexes,
            general_admission=(),
            requested=quantity,
            adjacent=candidate.adjacent,
        )
    raise SeatsContended(retry_after=1, extra={"category": category})


def hold_release(*, event_id: int, hold_id: int, user_id: int) -> None:
    """Release the user's hold now; its seats are free at once. Another user's
    hold, an expired or unknown id: `HoldNotFound` (the same answer, so hold
    ids cannot be probed)."""
    if not scripts.release_script(event_id=event_id, user_id=user_id, hold_id=hold_id):
        raise HoldNotFound()


def holds_expire(*, event_id: int) -> int:
    """Release the event's expired holds now (every hold and snapshot call does
    this too; the periodic task covers quiet events). Returns how many."""
    return scripts.expire_script(event_id=event_id)


# --- For checkout ----------------------------------------------------------------


def hold_confirm(
    *, event_id: int, hold_id: int, user_id: int, extend_seconds: int = 0
) -> Hold:
    """Check that `hold_id` is still the user's current hold and return it
    (seats, prices, total), optionally keeping it for at least
    `extend_seconds` more (while a payment runs).

    This is the fencing check: a hold that expired or was released is gone
    from Redis, even if its seats have since been held by someone else under a
    larger id, so an old hold can never be confirmed. Raises `HoldExpired`.
    """
    stored = scripts.read_script(
        event_id=event_id,
        user_id=user_id,
        hold_id=hold_id,
        extend_ms=max(0, extend_seconds) * 1000,
    )
    layout = None if stored is None else hold_layout_get(stored=stored)
    if stored is None or layout is None:
        raise HoldExpired(extra={"hold_id": hold_id})
    return hold_from_stored(layout=layout, stored=stored)


def sale_record(
    *, event_id: int, hold_id: int, user_id: int, order_reference: str = ""
) -> Hold:
    """Record in MySQL that the hold's seats and places are sold; call it inside
    the checkout's `transaction.atomic()`.

    Verifies the hold first (`hold_confirm`: `HoldExpired`). Seats are written
    as `SeatSale` rows, UNIQUE per (event, seat): if one was sold already (a
    hold lost in Redis and re-granted), `SeatAlreadySold` and nothing is
    written. GA places are counted with a conditional UPDATE that cannot pass
    the capacity (`GeneralAdmissionSoldOut`). After the surrounding
    transaction commits, the seats are marked sold in Redis and the hold is
    retired (`seats_mark_sold`); if that fails, the periodic reconcile (or a
    rebuild) marks them from MySQL.
    """
    hold = hold_confirm(event_id=event_id, hold_id=hold_id, user_id=user_id)
    totals: list[tuple[str, int]] = []
    try:
        with transaction.atomic():
            SeatSale.objects.bulk_create(
                [
                    SeatSale(
                        event_id=event_id,
                        seat_id=seat_id,
                        user_id=user_id,
                        hold_id=hold_id,
                        order_reference=order_reference,
                    )
                    for seat_id in hold.seat_ids
                ]
            )
            for code, quantity in sorted(hold.general_admission.items()):
                updated = PriceCategory.objects.filter(
                    event_id=event_id,
                    code=code,
                    general_admission=True,
                    ga_sold__lte=F("capacity") - quantity,
                ).update(ga_sold=F("ga_sold") + quantity)
                if updated != 1:
                    raise GeneralAdmissionSoldOut(extra={"category": code})
                totals.append(
                    (
                        code,
                        PriceCategory.objects.values_list("ga_sold", flat=True).get(
                            event_id=event_id, code=code
                        ),
                    )
                )
    except IntegrityError:
        # Only the UNIQUE (event, seat) makes this a double sale; anything
        # else (a missing user, say) is a bug and must surface as one.
        taken = list(
            SeatSale.objects.filter(
                event_id=event_id, seat_id__in=hold.seat_ids
            ).values_list("seat_id", flat=True)
        )
        if not taken:
            raise
        raise SeatAlreadySold(extra={"hold_id": hold_id, "seat_ids": taken}) from None
    transaction.on_commit(
        lambda: seats_mark_sold(
            event_id=event_id,
            hold_id=hold_id,
            seat_ids=hold.seat_ids,
            general_admission_totals=totals,
        ),
        robust=True,
    )
    return hold


def seats_mark_sold(
    *,
    event_id: int,
    seat_ids: Sequence[int],
    hold_id: int | None = None,
    general_admission_totals: Sequence[tuple[str, int]] = (),
) -> None:
    """Mark seats sold in Redis after their sale committed in MySQL, and retire
    the hold they came from. Idempotent. `general_admission_totals` are the
    categories' sold counts in MySQL after the commit (merged by maximum, so
    two sales may report in either order)."""
    # Once per sale: worth asking MySQL which layout is current.
    layout = seat_layout_get(event_id=event_id, fresh=True)
    indexes = [
        layout.index_by_seat_id[pk] for pk in seat_ids if pk in layout.index_by_seat_id
    ]
    scripts.sold_script(
        event_id=event_id,
        hold_id=hold_id,
        seat_indexes=indexes,
        general_admission_totals=general_admission_totals,
    )


def seats_sold_reconcile(*, event_id: int) -> None:
    """Copy MySQL's sold seats and GA counts into Redis (seats already marked
    are unchanged). Heals a sale whose after-commit mark failed."""
    if not SeatMap.objects.filter(event_id=event_id).exists():
        return
    seats_mark_sold(
        event_id=event_id,
        seat_ids=sorted(sold_seat_ids(event_id=event_id)),
        general_admission_totals=sorted(
            general_admission_sold(event_id=event_id).items()
        ),
    )


def seat_state_reconcile(*, event_id: int) -> None:
    """`seats_sold_reconcile`, and the blocked seats too (an older blocked set
    is never applied over a newer one): heals any after-commit Redis update
    that failed. The beat task runs it for events on sale."""
    if not SeatMap.objects.filter(event_id=event_id).exists():
        return
    seats_sold_reconcile(event_id=event_id)
    _seat_state_block_push(event_id=event_id)


# --- Added for checkout: releasing a sale -------------------------------------


def sale_release(
    *,
    event_id: int,
    order_reference: str,
    general_admission: Sequence[tuple[str, int]] = (),
) -> list[int]:
    """Undo `sale_record` for one order (it failed, expired, was cancelled or
    refunded); call it inside the caller's `transaction.atomic()`, once per
    order (the caller's order state change guarantees that).

    Deletes the order's `SeatSale` rows (found by `order_reference`) and gives
    back its general-admission places (`general_admission`: (code, quantity)
    pairs) with a conditional UPDATE that never goes below zero. Returns the
    released seat ids. After the commit, call `seats_unsold` so Redis offers
    them again.
    """
    sales = SeatSale.objects.filter(event_id=event_id, order_reference=order_reference)
    seat_ids = sorted(sales.values_list("seat_id", flat=True))
    sales.delete()
    for code, quantity in general_admission:
        PriceCategory.objects.filter(
            event_id=event_id,
            code=code,
            general_admission=True,
            ga_sold__gte=quantity,
        ).update(ga_sold=F("ga_sold") - quantity)
    return seat_ids


def seats_unsold(*, event_id: int, seat_ids: Sequence[int]) -> None:
    """Put seats whose sale was released in MySQL back on sale in Redis (and
    on the live seat stream), and set GA sold counts to MySQL's. Skips seats
    MySQL still shows as sold (sold again meanwhile). Idempotent."""
    if not SeatMap.objects.filter(event_id=event_id).exists():
        return
    layout = seat_layout_get(event_id=event_id)
    still_sold = sold_seat_ids(event_id=event_id)
    indexes = [
        layout.index_by_seat_id[pk]
        for pk in seat_ids
        if pk in layout.index_by_seat_id and pk not in still_sold
    ]
    scripts.unsold_script(
        event_id=event_id,
        seat_indexes=indexes,
        general_admission_totals=sorted(
            general_admission_sold(event_id=event_id).items()
        ),
    )
