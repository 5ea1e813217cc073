"""Domain errors of the waiting room (no HTTP here; see platform/exceptions.py)."""

from onsale.platform.exceptions import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)


class QueueClosed(Conflict):
    code = "queue_closed"
    message = "This waiting room is closed."


class QueueNotOpen(Conflict):
    code = "queue_not_open"
    message = "This waiting room is not open yet."


class NotInQueue(NotFound):
    code = "not_in_queue"
    message = "You have not joined this waiting room."


class JoinRateLimited(RateLimited):
    code = "join_rate_limited"
    message = "Too many attempts to join from this address; try again shortly."


class RoomFull(Conflict):
    code = "room_full"
    message = "The maximum number of active shoppers has been reached."


class AdmissionExpired(Conflict):
    code = "admission_expired"
    message = "Your admission was not claimed in time or your session is over."


class NotAdmitted(Conflict):
    code = "not_admitted"
    message = "It is not your turn yet."


class InvalidWaitingRoomConfig(InvalidInput):
    code = "invalid_waitingroom_config"
    message = "This waiting room configuration is not valid."


class AccessTokenMissing(NotAuthenticated):
    code = "access_token_required"
    message = "This needs an access token from the waiting room (X-Access-Token)."


class AccessTokenInvalid(NotAuthenticated):
    code = "access_token_invalid"
    message = "The access token is not valid."


class AccessSessionEnded(NotAuthenticated):
    code = "access_session_ended"
    message = "Your shopping session has ended."


class TurnGraceOver(Conflict):
    code = "turn_grace_over"
    message = (
        "Your turn passed and can no longer be taken back; "
        "you can rejoin at the back of the line."
    )


class TurnNotOver(Conflict):
    code = "turn_not_over"
    message = "Your turn has not passed: you keep your place."


class AdmissionPaused(Conflict):
    code = "admission_paused"
    message = "Admission is paused for the moment; try again shortly."


class PlaceChanged(Conflict):
    code = "place_changed"
    message = "Your place in this line has changed; reload the page."


class EventSoldOut(Conflict):
    code = "sold_out"
    message = "Nothing is left to choose right now."
