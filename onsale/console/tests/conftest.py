"""The console's tests run on the seat selection tests' organizer and event
fixtures (the console pages and APIs were tested with them before the console
became its own app). They are imported, not copied, so both apps' tests keep
one definition until shared fixtures move to onsale/testutils/."""

from onsale.seatselection.tests.conftest import (
    event,
    organizer,
    organizer_client,
    seated_event,
)

__all__ = ["event", "organizer", "organizer_client", "seated_event"]
