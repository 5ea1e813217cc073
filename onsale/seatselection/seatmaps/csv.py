"""Seat maps as CSV: one line per seat, converted to the full JSON form.

A spreadsheet is how most venues keep their seating plan, so organizers may
upload one instead of writing JSON. The CSV is only a different spelling of
the full form of `seatmaps.parse.seatmap_parse`: it is converted here and loaded by
`seatmaps.write.seatmap_replace`, so every rule (and the all-or-nothing write) is
the same. Errors name the CSV line (`row`, 1 = the header) and `column`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from onsale.events.models import Event
from onsale.seatselection.exceptions import SeatMapInvalid
from onsale.seatselection.models import SeatMap
from onsale.seatselection.seatmaps.parse import seatmap_parse
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.usermgmt.models import User

REQUIRED_COLUMNS = ("section", "row", "seat", "category", "price")
OPTIONAL_COLUMNS = ("x", "y", "category_name", "accessibility", "blocked", "row_rank")
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"", "0", "false", "no", "n"}
# Where a full-form path points: sections[s].rows[r].seats[k].<field>.
_SEAT_PATH = re.compile(
    r"^sections\[(\d+)\](?:\.rows\[(\d+)\](?:\.seats\[(\d+)\])?)?(?:\.(\w+))?"
)
_CATEGORY_PATH = re.compile(r"^categories\[(\d+)\](?:\.(\w+))?")
# Full-form field -> CSV column.
_COLUMN_OF = {
    "label": "seat",
    "x": "x",
    "y": "y",
    "category": "category",
    "accessibility": "accessibility",
    "blocked": "blocked",
    "rank": "row_rank",
    "name": "section",
    "price": "price",
    "code": "category",
}


@dataclass
class CsvSeatMap:
    """The converted map and, for error messages, which CSV line each part
    came from (line numbers as a spreadsheet shows them; 1 is the header)."""

    data: dict[str, Any]
    seat_lines: dict[tuple[int, int, int], int] = field(default_factory=dict)
    row_lines: dict[tuple[int, int], int] = field(default_factory=dict)
    section_lines: dict[int, int] = field(default_factory=dict)
    category_lines: dict[int, int] = field(default_factory=dict)


def _error(message: str, *, line: int, column: str | None) -> SeatMapInvalid:
    where = f"line {line}" + (f", column {column!r}" if column else "")
    return SeatMapInvalid(
        f"{where}: {message}",
        code="seatmap_csv_invalid",
        extra={"row": line, "column": column},
    )


def _number(value: str, *, line: int, column: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise _error(f"{value!r} is not a number.", line=line, column=column) from None


def seatmap_csv_convert(*, text: str) -> CsvSeatMap:
    """Convert a CSV seat map to the full JSON form; writes nothing.

    Columns are named in the header (any order, case-insensitive): `section`,
    `row`, `seat`, `category`, `price` are required; `x`, `y` (default: the
    seat's place in its row, the row's place in its section), `category_name`,
    `accessibility` (flags separated by `|`), `blocked` (yes/no, 1/0,
    true/false) and `row_rank` are optional. Rows and sections appear in the
    order of their first line. A category's price must be the same on every
    line. Problems raise `SeatMapInvalid` (`seatmap_csv_invalid`) with
    `extra = {"row": line, "column": name}`.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header_line = next(reader, None)
    if not header_line or not any(cell.strip() for cell in header_line):
        raise _error("the CSV needs a header line.", line=1, column=None)
    header = [cell.strip().lower() for cell in header_line]
    for name in header:
        if name not in REQUIRED_COLUMNS and name not in OPTIONAL_COLUMNS:
            raise _error(
                f"unknown column (known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}).",
                line=1,
                column=name,
            )
        if header.count(name) > 1:
            raise _error("the column appears twice.", line=1, column=name)
    for name in REQUIRED_COLUMNS:
        if name not in header:
            raise _error("this column is required.", line=1, column=name)

    result = CsvSeatMap(data={})
    categories: dict[str, dict[str, Any]] = {}
    sections: dict[str, dict[str, Any]] = {}
    row_slots: dict[tuple[str, str], dict[str, Any]] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise _error(
                f"{len(cells)} cells where the header has {len(header)}.",
                line=line,
                column=None,
            )
        values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        for name in REQUIRED_COLUMNS:
            if not values[name]:
                raise _error("must not be empty.", line=line, column=name)
        code = values["category"]
        try:
            price = Decimal(values["price"])
        except InvalidOperation:
            raise _error(
                f"{values['price']!r} is not a price.", line=line, column="price"
            ) from None
        category = categories.get(code)
        if category is None:
            result.category_lines[len(categories)] = line
            category = categories[code] = {
                "code": code,
                "name": values.get("category_name") or code,
                "price": values["price"],
                "_price": price,
            }
        elif category["_price"] != price:
            raise _error(
                f"category {code!r} costs {category['price']} on line "
                f"{result.category_lines[list(categories).index(code)]}.",
                line=line,
                column="price",
            )
        section_name = values["section"]
        section = sections.get(section_name)
        if section is None:
            result.section_lines[len(sections)] = line
            section = sections[section_name] = {"name": section_name, "rows": []}
        s_index = list(sections).index(section_name)
        row = row_slots.get((section_name, values["row"]))
        if row is None:
            row = {"label": values["row"], "seats": []}
            if values.get("row_rank"):
                rank = _number(values["row_rank"], line=line, column="row_rank")
                if not rank.is_integer():
                    raise _error(
                        "must be a whole number.", line=line, column="row_rank"
                    )
                row["rank"] = int(rank)
            result.row_lines[(s_index, len(section["rows"]))] = line
            section["rows"].append(row)
            row_slots[(section_name, values["row"])] = row
        r_index = section["rows"].index(row)
        blocked = (values.get("blocked") or "").lower()
        if blocked not in _TRUE and blocked not in _FALSE:
            raise _error(
                f"{values['blocked']!r} is neither yes nor no.",
                line=line,
                column="blocked",
            )
        seat: dict[str, Any] = {
            "label": values["seat"],
            "x": _number(values["x"], line=line, column="x")
            if values.get("x")
            else float(len(row["seats"])),
            "y": _number(values["y"], line=line, column="y")
            if values.get("y")
            else float(r_index),
            "category": code,
            "blocked": blocked in _TRUE,
        }
        if values.get("accessibility"):
            seat["accessibility"] = [
                flag.strip() for flag in values["accessibility"].split("|")
            ]
        result.seat_lines[(s_index, r_index, len(row["seats"]))] = line
        row["seats"].append(seat)
    if not sections:
        raise _error("the CSV has no seats.", line=2, column=None)
    result.data = {
        "categories": [
            {key: value for key, value in category.items() if key != "_price"}
            for category in categories.values()
        ],
        "sections": list(sections.values()),
    }
    return result


def _locate(converted: CsvSeatMap, path: str) -> tuple[int, str | None]:
    """The CSV line and column a full-form error path points at."""
    match = _SEAT_PATH.match(path)
    if match:
        s, r, k, name = match.groups()
        column = _COLUMN_OF.get(name or "")
        if k is not None:
            line = converted.seat_lines.get((int(s), int(r), int(k)))
            column = column or "seat"
        elif r is not None:
            line = converted.row_lines.get((int(s), int(r)))
            column = "row_rank" if name == "rank" else "row"
        else:
            line = converted.section_lines.get(int(s))
            column = "section"
        return line or 1, column
    match = _CATEGORY_PATH.match(path)
    if match:
        number, name = match.groups()
        line = converted.category_lines.get(int(number), 1)
        return line, "category_name" if name == "name" else _COLUMN_OF.get(
            name or "", "category"
        )
    return 1, None


def seatmap_replace_from_csv(
    *, event: Event, text: str, actor: User | None = None
) -> SeatMap:
    """Replace the event's seat map with a CSV one (see `seatmap_csv_convert`)
    through `seatmaps.write.seatmap_replace`: same rules, same single transaction,
    nothing saved on any error. Errors of the full-form rules (a duplicate
    seat, a negative price, ...) keep their code and gain the CSV `row` and
    `column` they come from."""
    converted = seatmap_csv_convert(text=text)
    try:
        # Parse first (writes nothing) so that errors can be translated here,
        # then load through the one service that writes maps.
        seatmap_parse(data=converted.data)
    except SeatMapInvalid as error:
        line, column = _locate(converted, str(error.extra.get("path", "")))
        raise SeatMapInvalid(
            f"line {line}"
            + (f", column {column!r}" if column else "")
            + f": {error.message}",
            code=error.code,
            extra={**error.extra, "row": line, "column": column},
        ) from None
    return seatmap_replace(event=event, data=converted.data, actor=actor)
