"""Parsing an organizer's seat map document into a checked specification
(no database here): every error names the path of the value at fault."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from onsale.seatselection.exceptions import SeatMapInvalid
from onsale.seatselection.models import Seat

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
