"""The one port from orders and checkout to the seat selection and waiting
room apps. Every call into them goes through here, so the saga reads in its
own terms (holds to check out, sales to record and release, sessions to end)
and a change in either app touches only this file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import jwt

from onsale.events import selectors as event_selectors
from onsale.events.models import Event
from onsale.orders.exceptions import AccessTokenMissing
from onsale.seatselection import sales as seat_sales
from onsale.seatselection import seat_state
from onsale.seatselection import services as seat_services
from onsale.seatselection.exceptions import HoldExpired
from onsale.seatselection.models import PriceCategory, SeatSale
from onsale.seatselection.selectors import Hold
from onsale.usermgmt.models import User
from onsale.waitingroom import access as waitingroom_access
from onsale.waitingroom import services as waitingroom_services

if TYPE_CHECKING:
    from onsale.orders.models import Order

ACCESS_TOKEN_HEADER = waitingroom_access.ACCESS_TOKEN_HEADER


@dataclass(frozen=True)
class CheckoutLine:
    """One seat, or one general-admission place, priced from MySQL."""

    seat_id: int | None
    category_id: int
    category_code: str
    category_name: str
    label: str
    price: Decimal


@dataclass(frozen=True)
class CheckoutHold:
    """A hold confirmed current for checkout (the fencing check passed).
    `fenced` is seat selection's hold as the fence returned it: the sale is
    recorded from it without a second check."""

    event_id: int
    hold_id: int
    user_id: int
    session_id: str
    currency: str
    seat_ids: tuple[int, ...]
    lines: tuple[CheckoutLine, ...]
    expires_at: datetime
    fenced: Hold

    @property
    def total(self) -> Decimal:
        return sum((line.price for line in self.lines), Decimal("0"))


# --- Waiting room ------------------------------------------------------------------


def access_event_id(*, token: str) -> int:
    """The event an access token is for, read from its audience WITHOUT
    verifying it: only to know which event to verify it against
    (`access_verify` does that). A token that names no event is the waiting
    room's `AccessTokenInvalid`."""
    from onsale.waitingroom.exceptions import AccessTokenInvalid

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AccessTokenInvalid(extra={"reason": "malformed"}) from None
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else ""
    if isinstance(audience, str) and audience.startswith("event:"):
        value = audience[len("event:") :]
        if value.isdigit():
            return int(value)
    raise AccessTokenInvalid(extra={"reason": "claims"})


def access_verify(*, token: str | None, user: User, event_id: int) -> str:
    """Verify the X-Access-Token for this user and event; return the shopping
    session id. Missing: `AccessTokenMissing`; invalid or ended: the waiting
    room's 401 errors."""
    if not token:
        raise AccessTokenMissing()
    claims = waitingroom_access.access_token_verify(
        token=token, user_id=int(user.pk), event_id=event_id
    )
    return claims.session_id


def admission_end(*, order: Order) -> None:
    """The shopper is done: free their slot in the waiting room's active cap."""
    waitingroom_services.admission_session_end(
        event_id=order.event_id, session_id=order.access_session_id
    )


# --- Seat selection -----------------------------------------------------------------


def hold_for_checkout(
    *, event_id: int, user_id: int, hold_id: int, extend_seconds: int
) -> CheckoutHold:
    """The user's hold, confirmed current (fencing check) and kept for at least
    `extend_seconds` more, with each seat or place priced from the event's
    price categories in MySQL (never from the client).

    Raises seat selection's `HoldExpired` (409) when the hold is not the
    user's current hold (expired, released, sold, or re-held by someone
    else under a newer id), and its `EventNotFound` / `SeatMapNotFound` (404)
    for an event without a seat map.
    """
    hold = seat_services.hold_confirm(
        event_id=event_id,
        hold_id=hold_id,
        user_id=user_id,
        extend_seconds=extend_seconds,
    )
    categories = {
        category.code: category
        for category in PriceCategory.objects.filter(event_id=event_id)
    }
    lines: list[CheckoutLine] = []
    for line in hold.lines:
        category = categories[line.category]
        if line.seat_id is not None:
            label = " ".join(
                part for part in (line.section, line.row, line.label) if part
            )
            lines.append(
                CheckoutLine(
                    seat_id=line.seat_id,
                    category_id=category.pk,
                    category_code=category.code,
                    category_name=category.name,
                    label=label or str(line.seat_id),
                    price=Decimal(category.price),
                )
            )
            continue
        for number in range(1, line.quantity + 1):
            lines.append(
                CheckoutLine(
                    seat_id=None,
                    category_id=category.pk,
                    category_code=category.code,
                    category_name=category.name,
                    label=f"{category.name} (standing) {number}/{line.quantity}",
                    price=Decimal(category.price),
                )
            )
    return CheckoutHold(
        event_id=event_id,
        hold_id=hold.hold_id,
        user_id=user_id,
        session_id=hold.session_id,
        currency=hold.currency,
        seat_ids=tuple(hold.seat_ids),
        lines=tuple(lines),
        expires_at=hold.expires_at,
        fenced=hold,
    )


def sales_record(*, order: Order, hold: CheckoutHold) -> None:
    """Record the hold's seats as sold to this order, inside the caller's
    transaction (seat-sale rows UNIQUE per (event, seat); GA counted within
    capacity), from the hold fenced by `hold_for_checkout` (not checked in
    Redis again). Seat selection marks them sold in Redis after the commit.
    Raises `SeatAlreadySold` or `GeneralAdmissionSoldOut`."""
    seat_sales.sale_record(hold=hold.fenced, order_reference=str(order.pk))


def sales_release(*, order: Order) -> None:
    """Delete the order's seat sales and give back its general-admission
    places in MySQL, inside the caller's transaction (call once per order:
    the caller's order state change guarantees that)."""
    places: dict[str, int] = {}
    general = order.lines.filter(category__general_admission=True)
    for code in general.values_list("category__code", flat=True):
        places[code] = places.get(code, 0) + 1
    seat_sales.sale_release(
        event_id=order.event_id,
        order_reference=str(order.pk),
        general_admission=sorted(places.items()),
    )


def hold_retire(*, order: Order) -> None:
    """After the order's payment committed: retire the hold it was bought
    from in Redis (the hold stays while the payment runs)."""
    seat_sales.hold_retire(
        event_id=order.event_id,
        hold_id=order.hold_id,
        seat_ids=_order_seat_ids(order),
    )


def hold_after_failed_payment(*, order: Order) -> datetime | None:
    """After the order failed or expired: its hold, if the fan still has it,
    goes back to its own expiry (the checkout had extended it), so they may
    pay again for the same seats until then. Returns when the hold expires,
    or None if it is gone."""
    return seat_services.hold_extension_end(
        event_id=order.event_id, hold_id=order.hold_id, user_id=order.user_id
    )


def hold_expires_at(*, event_id: int, user_id: int, hold_id: int) -> datetime | None:
    """When the user's hold expires, or None if it is no longer theirs and
    current (no extension)."""
    try:
        hold = seat_services.hold_confirm(
            event_id=event_id, hold_id=hold_id, user_id=user_id
        )
    except HoldExpired:
        return None
    return hold.expires_at


def _order_seat_ids(order: Order) -> list[int]:
    return [
        seat_id
        for seat_id in order.lines.values_list("seat_id", flat=True)
        if seat_id is not None
    ]


def seats_put_back(*, order: Order) -> None:
    """After `sales_release` committed: put the order's seats back on sale in
    Redis and announce them on the live seat stream."""
    seat_state.seats_unsold(event_id=order.event_id, seat_ids=_order_seat_ids(order))


def seat_sales_per_order() -> Counter[str]:
    """How many seat sales each order owns (by order id as text), for
    reconciliation."""
    return Counter(SeatSale.objects.values_list("order_reference", flat=True))


def event_get(*, event_id: int) -> Event | None:
    """The event, or None (for pages that explain a missing one)."""
    return Event.objects.filter(pk=event_id).first()


def event_for_organizer(*, event_id: int, viewer: User) -> Event:
    """The event if `viewer` runs it (or is staff); `EventNotFound` (404)
    otherwise, like a missing id."""
    return event_selectors.event_get_for_organizer(event_id=event_id, viewer=viewer)
