"""The Redis seat state: built from MySQL when missing, the blocked seats
pushed into it, sold seats marked and unmarked, and the reconciliation that
copies the MySQL truth back into it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence

from onsale.seatselection import scripts
from onsale.seatselection.layout import (
    general_admission_sold,
    seat_layout_get,
    sold_seat_ids,
)
from onsale.seatselection.models import Seat, SeatMap

logger = logging.getLogger(__name__)


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
