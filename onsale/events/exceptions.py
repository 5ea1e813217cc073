"""Domain errors of the event catalog (no HTTP here; see
platform/exceptions.py for the mapping). `EventNotFound` is the one every app
raises for an unknown or hidden event."""

from onsale.platform.exceptions import Conflict, InvalidInput, NotFound


class EventNotFound(NotFound):
    code = "event_not_found"
    message = "There is no such event."


class EventInvalid(InvalidInput):
    code = "event_invalid"
    message = "This event is not valid."


class EventScheduleInvalid(InvalidInput):
    code = "event_schedule_invalid"
    message = "The on-sale must start no later than the event."


class EventStatusChangeInvalid(Conflict):
    code = "event_status_change_invalid"
    message = "The event cannot move to this status."


class EventCurrencyLocked(Conflict):
    code = "event_currency_locked"
    message = "The currency cannot change once the event has a seat map."
