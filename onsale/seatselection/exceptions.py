"""Domain errors of seat maps, seat state and holds (no HTTP here; see
platform/exceptions.py for the mapping)."""

from onsale.platform.exceptions import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    Unavailable,
)


class SeatMapNotFound(NotFound):
    code = "seatmap_not_found"
    message = "This event has no seat map yet."


class SeatMapInvalid(InvalidInput):
    """The map as sent cannot be loaded. `code` names the problem
    (seatmap_duplicate_seat, seatmap_unknown_category, seatmap_negative_price,
    seatmap_too_large, ...) and `extra["path"]` where it is."""

    code = "seatmap_invalid"
    message = "The seat map is not valid."


class SeatMapLocked(Conflict):
    code = "seatmap_locked"
    message = (
        "The seat map cannot be replaced once the on-sale started or seats were sold."
    )


class SeatStateUnavailable(Unavailable):
    code = "seat_state_unavailable"
    message = "Seat availability is being rebuilt; try again in a moment."


class HoldRequestInvalid(InvalidInput):
    code = "hold_invalid"
    message = "This hold request is not valid."


class SeatsUnavailable(Conflict):
    """Some requested seats are sold, blocked or held by someone else;
    `extra["seat_ids"]` lists them. Nothing was held."""

    code = "seats_unavailable"
    message = "Some of these seats were just taken."


class NotEnoughSeats(Conflict):
    code = "not_enough_seats"
    message = "There are not enough seats left in this category."


class SeatsContended(Conflict):
    code = "seats_contended"
    message = "Seats in this category are being taken fast; try again."


class SeatLimitReached(Conflict):
    code = "seat_limit_reached"
    message = "You would hold more seats than allowed per fan."


class HoldSessionEnded(NotAuthenticated):
    code = "access_session_ended"
    message = "Your shopping session has ended."


class HoldNotFound(NotFound):
    code = "hold_not_found"
    message = "There is no such active hold (it may have expired)."


class HoldExpired(Conflict):
    code = "hold_expired"
    message = "The hold has expired or was released; its seats may be gone."


class SeatAlreadySold(Conflict):
    code = "seat_already_sold"
    message = "A seat in this hold has already been sold."


class GeneralAdmissionSoldOut(Conflict):
    code = "general_admission_sold_out"
    message = "Not enough general-admission places are left."
