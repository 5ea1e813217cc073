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
