"""Sales for checkout: recording the seats of a paid hold as sold in MySQL,
and releasing them again."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import F

from onsale.platform.db import require_atomic
from onsale.seatselection.exceptions import (
    GeneralAdmissionSoldOut,
    SeatAlreadySold,
)
from onsale.seatselection.models import PriceCategory, SeatSale
from onsale.seatselection.seat_state import seats_mark_sold
from onsale.seatselection.selectors import Hold


def sale_record(*, hold: Hold, order_reference: str = "") -> None:
    """Record in MySQL that the hold's seats and places are sold, inside the
    checkout's `transaction.atomic()` (outside one: `TransactionRequired`,
    nothing written).

    `hold` is the hold checkout already fenced at its start (the `Hold` that
    `hold_confirm` returned, extended while the payment runs); it is not
    confirmed again here. Seats are written as `SeatSale` rows, UNIQUE per
    (event, seat): if one was sold already (a hold lost in Redis and
    re-granted), `SeatAlreadySold` and nothing is written. GA places are
    counted with a conditional UPDATE that cannot pass the capacity
    (`GeneralAdmissionSoldOut`). After the surrounding transaction commits,
    the seats are marked sold in Redis (`seats_mark_sold`; if that fails, the
    periodic reconcile or a rebuild marks them from MySQL). The hold itself
    is not retired here: it stays while the payment runs, so a declined card
    leaves the fan their seats for another try (the order's compensation
    releases the sale, the hold still holds the seats). Checkout retires it
    with `hold_retire` once the order is paid, or it lapses at its expiry.

    Why one fence is enough: the fence proves the hold was the fan's current
    one when checkout began, and extends it for the checkout's duration
    (checkout's HOLD_EXTEND_SECONDS), so it does not lapse between the fence
    and this sale, which follows in the same request. What can still happen
    in that window (the fan releases or replaces the hold, Redis loses it, a
    stalled request outlives the extension, and someone else holds the seats
    under a larger id) could equally happen after a second check, between it
    and the commit: a check in Redis never closed that window. MySQL does: the UNIQUE (event, seat) row and the GA
    conditional UPDATE let exactly one of the two sales commit, and the other
    gets `SeatAlreadySold` or `GeneralAdmissionSoldOut`. A second fence
    would only cost one more Redis round trip per checkout.
    """
    require_atomic()
    event_id, hold_id = hold.event_id, hold.hold_id
    totals: list[tuple[str, int]] = []
    try:
        # A savepoint: on a double sale it undoes this sale's rows and GA
        # counts and leaves the checkout's transaction usable, so the taken
        # seats can be read below and the caller can record the failure.
        with transaction.atomic():
            SeatSale.objects.bulk_create(
                [
                    SeatSale(
                        event_id=event_id,
                        seat_id=seat_id,
                        user_id=hold.user_id,
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
            seat_ids=hold.seat_ids,
            general_admission_totals=totals,
        ),
        robust=True,
    )


def hold_retire(*, event_id: int, hold_id: int, seat_ids: Sequence[int]) -> None:
    """The hold's order is paid: retire the hold in Redis (its seats stay
    marked sold; they are marked again, which is idempotent). Call after the
    payment committed. If Redis cannot be reached the hold simply lapses at
    its expiry; its seats stay sold either way."""
    seats_mark_sold(event_id=event_id, hold_id=hold_id, seat_ids=seat_ids)


def sale_release(
    *,
    event_id: int,
    order_reference: str,
    general_admission: Sequence[tuple[str, int]] = (),
) -> list[int]:
    """Undo `sale_record` for one order (it failed, expired, was cancelled or
    refunded), inside the caller's `transaction.atomic()` (outside one:
    `TransactionRequired`, nothing written), once per order (the caller's
    order state change guarantees that).

    Deletes the order's `SeatSale` rows (found by `order_reference`) and gives
    back its general-admission places (`general_admission`: (code, quantity)
    pairs) with a conditional UPDATE that never goes below zero. Returns the
    released seat ids. After the commit, call `seats_unsold` so Redis offers
    them again.
    """
    require_atomic()
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
